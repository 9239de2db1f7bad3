import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCpiCallRecord, TestCpiConfig } from './test-cpi-config.ts';

/** Absolute path of the test CPI executable (a bash wrapper running the pinned Node). */
export const testCpiExecutable = fileURLToPath(new URL('../../bin/test-cpi', import.meta.url));

/** A configured test CPI: what to give the director (`command` + `args`) and what it recorded. */
export interface TestCpi {
  readonly command: string;
  readonly args: readonly string[];
  readonly stateDir: string;
  readonly configPath: string;
  /** Every request received so far, in order, with the environment the CPI saw. */
  calls(): Promise<TestCpiCallRecord[]>;
  /** Rewrites the config (e.g. to add or clear faults); the next call sees it. */
  configure(config: Omit<TestCpiConfig, 'state_dir'>): Promise<void>;
}

/**
 * Sets up a test CPI under `dir` (its config file and state dir). The caller owns `dir` and
 * removes it. Example: `createTestCpi(tmp, { faults: { create_stemcell: 'hang' } })`.
 */
export async function createTestCpi(
  dir: string,
  config: Omit<TestCpiConfig, 'state_dir'> = {},
): Promise<TestCpi> {
  const stateDir = join(dir, 'state');
  const configPath = join(dir, 'test-cpi.json');
  await mkdir(stateDir, { recursive: true });
  // Written aside and renamed: a CPI process the director starts meanwhile must never read
  // the config half-written.
  const configure = async (next: Omit<TestCpiConfig, 'state_dir'>) => {
    await writeFile(`${configPath}.tmp`, JSON.stringify({ ...next, state_dir: stateDir }));
    await rename(`${configPath}.tmp`, configPath);
  };
  await configure(config);
  return {
    command: testCpiExecutable,
    args: ['--config', configPath],
    stateDir,
    configPath,
    configure,
    async calls() {
      const text = await readFile(join(stateDir, 'calls.jsonl'), 'utf8').catch(() => '');
      // A CPI process may be appending a record right now: only complete lines count.
      return text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as TestCpiCallRecord);
    },
  };
}
