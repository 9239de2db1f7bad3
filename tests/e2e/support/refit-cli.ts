// The refit CLI executable as an operator runs it against a test director: a fresh HOME per run,
// the BOSH_* environment the stock CLI reads, no terminal (stdin closed).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { repo } from './vm-lab.ts';

const refitBin = join(repo, 'packages/cli/bin/refit');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where the CLI finds the director: its port, CA certificate and client credentials. */
export interface CliTarget {
  readonly port: number;
  readonly ca: string;
  readonly auth: { readonly client: string; readonly secret: string };
}

export interface RefitCli {
  /** Runs `refit <argv>`; resolves with its exit code and output whatever it is. */
  readonly run: (argv: readonly string[]) => Promise<CliRun>;
  /** Runs `refit <argv>` and asserts it exits 0. */
  readonly ok: (argv: readonly string[]) => Promise<CliRun>;
}

/**
 * A CLI bound to the director `target()` (read at each run, so a restarted director is followed);
 * each run gets its own HOME under `homes()` (the test's work directory).
 */
export function refitCli(target: () => CliTarget, homes: () => string, timeoutMs = 300_000): RefitCli {
  const run = async (argv: readonly string[]): Promise<CliRun> => {
    const { port, ca, auth } = target();
    const home = await mkdtemp(join(homes(), 'home-'));
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      BOSH_ENVIRONMENT: `https://127.0.0.1:${port}`,
      BOSH_CA_CERT: ca,
      BOSH_CLIENT: auth.client,
      BOSH_CLIENT_SECRET: auth.secret,
    };
    return new Promise<CliRun>((resolve) => {
      const child = execFile(refitBin, argv, { env, timeout: timeoutMs }, (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
      );
      child.stdin?.end('');
    });
  };
  return {
    run,
    ok: async (argv) => {
      const result = await run(argv);
      assert.equal(result.code, 0, `refit ${argv.join(' ')}:\n${result.stdout}${result.stderr}`);
      return result;
    },
  };
}

/** Piped (data-only) table rows as cells (`-` for empty, as the stock CLI). */
export const rowsOf = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/\t$/, '').split('\t'));
