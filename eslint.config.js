// Lint is a ratchet: rules go in as errors; an eslint-disable carries its reason.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = '^(node:|fs|path|child_process|net|http|https|tls|os|pg|nats|tar-stream|zlib)';

export default tseslint.config(
  {
    ignores: ['node_modules/**', '**/fixtures/**', 'bench/out/**', '.state/**', 'tmp/**', 'eslint.config.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // protocol holds wire contracts only: it imports zod and itself, nothing else.
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!zod$|\\.)', message: 'protocol imports only zod' }] },
      ],
    },
  },
  {
    // The planner is pure: values in, a plan out. No I/O of any kind.
    files: ['packages/director/src/planner/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: ioModules, message: 'the planner is pure' }] },
      ],
    },
  },
  {
    // The CLI speaks HTTP through protocol; it never imports director or agent code.
    files: ['packages/cli/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^@refit/(director|agent|cpi-local|hm)', message: 'the CLI talks to the API only' },
          ],
        },
      ],
    },
  },
  {
    // Only ui/ prints in the CLI; executables' main.ts and scripts may write to the console.
    files: [
      'packages/cli/src/ui/**/*.ts',
      'packages/*/src/main.ts',
      'packages/*/bin/**/*.ts',
      'bench/**/*.ts',
      'tests/**/*.ts',
      'packages/*/src/**/*.test.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
