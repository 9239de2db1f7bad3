import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.ts';
import type { FlagSpec } from './flag-spec.ts';
import { applyEnvironment, parseCommandLine } from './parse-command-line.ts';

const globals: FlagSpec[] = [
  { name: 'environment', short: 'e', kind: 'string', env: 'BOSH_ENVIRONMENT', description: '' },
  { name: 'non-interactive', short: 'n', kind: 'boolean', env: 'BOSH_NON_INTERACTIVE', description: '' },
  { name: 'json', kind: 'boolean', description: '' },
];
const taskFlags: FlagSpec[] = [
  { name: 'recent', short: 'r', kind: 'optional-int', optionalValue: 30, description: '' },
  { name: 'sha1', kind: 'string', description: '' },
  { name: 'resolution', kind: 'strings', description: '' },
];
const lookup = (name: string) => (name === 'tasks' ? taskFlags : name === 'env' ? [] : undefined);

describe('parseCommandLine', () => {
  it('takes global flags before and after the command, and command flags after it', () => {
    const parsed = parseCommandLine(
      ['-e', 'https://d:25555', 'tasks', '--recent', '-n', 'extra'],
      globals,
      lookup,
    );
    assert.equal(parsed.command, 'tasks');
    assert.deepEqual(parsed.positionals, ['extra']);
    assert.deepEqual(parsed.flags, { environment: 'https://d:25555', recent: 30, 'non-interactive': true });
  });

  it('reads optional values only after =, and string values inline or as the next token', () => {
    const parsed = parseCommandLine(['tasks', '-r=5', '--sha1=abc', '--environment', 'x'], globals, lookup);
    assert.deepEqual(parsed.flags, { recent: 5, sha1: 'abc', environment: 'x' });
    assert.deepEqual(parseCommandLine(['-ex', 'env'], globals, lookup).flags, { environment: 'x' });
  });

  it('joins the values of a repeated strings flag; a string flag keeps the last', () => {
    const parsed = parseCommandLine(
      ['tasks', '--resolution', 'a', '--resolution=b', '--sha1', 'x', '--sha1=y', '--resolution', 'c'],
      globals,
      lookup,
    );
    assert.deepEqual(parsed.flags, { resolution: 'a,b,c', sha1: 'y' });
    assert.throws(() => parseCommandLine(['tasks', '--resolution'], globals, lookup), UsageError);
  });

  it("prefers a command's flag over a global flag of the same name", () => {
    const withVersion: FlagSpec[] = [
      ...globals,
      { name: 'version', short: 'v', kind: 'boolean', description: '' },
    ];
    const lookupVersion = (name: string) =>
      name === 'upload-stemcell' ? [{ name: 'version', kind: 'string' as const, description: '' }] : [];
    assert.deepEqual(
      parseCommandLine(['upload-stemcell', '--version', '1.2'], withVersion, lookupVersion).flags,
      {
        version: '1.2',
      },
    );
    assert.deepEqual(parseCommandLine(['--version'], withVersion, lookupVersion).flags, { version: true });
  });

  it('treats everything after -- as positionals', () => {
    const parsed = parseCommandLine(['tasks', '--', '--json'], globals, lookup);
    assert.deepEqual(parsed.positionals, ['--json']);
    assert.deepEqual(parsed.flags, {});
  });

  it('refuses unknown flags, command flags before the command, and missing values', () => {
    assert.throws(() => parseCommandLine(['tasks', '--bogus'], globals, lookup), UsageError);
    assert.throws(() => parseCommandLine(['--recent', 'tasks'], globals, lookup), /unknown flag `recent'/);
    assert.throws(() => parseCommandLine(['env', '-e'], globals, lookup), /expected argument for flag `-e'/);
    assert.throws(() => parseCommandLine(['env', '--json=yes'], globals, lookup), /cannot have an argument/);
    assert.throws(() => parseCommandLine(['tasks', '--recent=x'], globals, lookup), /invalid argument/);
  });

  it('fills absent flags from their environment variables, never overriding the command line', () => {
    const env = { BOSH_ENVIRONMENT: 'from-env', BOSH_NON_INTERACTIVE: 'true' };
    assert.deepEqual(applyEnvironment({}, globals, env), {
      environment: 'from-env',
      'non-interactive': true,
    });
    assert.deepEqual(applyEnvironment({ environment: 'flag' }, globals, env)['environment'], 'flag');
    assert.throws(() => applyEnvironment({}, globals, { BOSH_NON_INTERACTIVE: 'maybe' }), UsageError);
  });
});
