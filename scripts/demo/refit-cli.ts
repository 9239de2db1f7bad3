// Runs the refit CLI as an operator would, keeping every command and its output in a log file.
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { DemoError } from './processes.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class RefitCli {
  readonly #bin: string;
  readonly #env: Record<string, string>;
  readonly #log: string;

  constructor(options: { bin: string; env: Record<string, string>; log: string }) {
    this.#bin = options.bin;
    this.#env = options.env;
    this.#log = options.log;
  }

  async run(argv: readonly string[], timeoutMs = 600_000): Promise<CliRun> {
    const result = await new Promise<CliRun>((ok) => {
      const child = execFile(
        this.#bin,
        [...argv],
        { env: { ...process.env, ...this.#env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          ok({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          }),
      );
      child.stdin?.end('');
    });
    await appendFile(
      this.#log,
      `\n$ refit ${argv.join(' ')}\n${result.stdout}${result.stderr}[exit ${result.code}]\n`,
    );
    return result;
  }

  /** Runs and throws (naming the command and the log) unless it exits 0. */
  async ok(argv: readonly string[], timeoutMs?: number): Promise<CliRun> {
    const result = await this.run(argv, timeoutMs);
    if (result.code !== 0) {
      const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new DemoError(`refit ${argv.join(' ')} failed (exit ${result.code}):\n${tail}`, [this.#log]);
    }
    return result;
  }

  /** `--json` output's first table rows. */
  async rows(argv: readonly string[]): Promise<Record<string, string>[]> {
    const { stdout } = await this.ok(['--json', ...argv]);
    const doc = JSON.parse(stdout) as { Tables?: { Rows?: Record<string, string>[] }[] };
    return doc.Tables?.[0]?.Rows ?? [];
  }
}
