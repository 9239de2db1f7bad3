import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { formatPath, ManifestInvalid, type ManifestProblem } from './manifest-invalid.ts';

/**
 * Parses a YAML document (text) or an already-parsed value with a protocol schema. Every issue
 * is reported with its path: `instance_groups[0].instances: expected an integer, got 'three'`,
 * `update.foo: unknown key`.
 */
export function parseDocument<S extends z.ZodType>(schema: S, input: unknown, document: string): z.output<S> {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = parseYaml(input);
    } catch (error) {
      const first = (error as Error).message.split('\n')[0] ?? '';
      throw new ManifestInvalid(document, [{ path: '', message: `not valid YAML: ${first}` }]);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ManifestInvalid(document, [{ path: '', message: 'must be a YAML hash' }]);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ManifestInvalid(document, problemsOf(parsed.error.issues, raw));
}

function problemsOf(issues: readonly z.core.$ZodIssue[], raw: unknown): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0 && 'discriminator' in issue) {
      problems.push({ path: formatPath(issue.path), message: issue.message });
      continue;
    }
    const value = valueAt(raw, issue.path);
    const path = formatPath(issue.path);
    if (value === undefined && issue.code === 'invalid_type') {
      problems.push({ path, message: 'is required' });
    } else if (issue.code === 'invalid_type') {
      problems.push({ path, message: `expected ${article(issue.expected)}, got ${show(value)}` });
    } else {
      problems.push({
        path,
        message: `${show(value)} is invalid (${issue.message.replace(/^Invalid input: /, '')})`,
      });
    }
  }
  return problems;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = root;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'a boolean',
    object: 'a hash',
    record: 'a hash',
    array: 'an array',
  };
  return names[expected] ?? expected;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'a hash';
  return String(value);
}
