import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const HM_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/refit-hm');

export interface HmLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A running `refit-hm` whose JSON-lines stdout is collected, for tests and the benchmark. */
export class HmProcess {
  readonly child: ChildProcess;
  readonly lines: Array<HmLine & { readonly receivedAt: number }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      const receivedAt = Date.now();
      for (const part of parts) {
        if (part.trim() === '') continue;
        try {
          this.lines.push({ ...(JSON.parse(part) as HmLine), receivedAt });
        } catch {
          this.lines.push({ time: '', level: 'raw', msg: part, receivedAt });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
  }

  static spawn(args: readonly string[]): HmProcess {
    return new HmProcess(spawn(HM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stderr(): string {
    return this.#stderr;
  }

  alerts(): Array<Record<string, unknown> & { title: string; receivedAt: number }> {
    return this.lines
      .filter((l) => l.msg === 'alert')
      .map((l) => ({ ...(l.alert as { title: string }), receivedAt: l.receivedAt }));
  }

  /** Waits for a line matching `match` (rejects on exit or after `timeoutMs`). */
  async waitFor(what: string, match: (line: HmLine) => boolean, timeoutMs = 20_000): Promise<HmLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.child.exitCode !== null)
        throw new Error(`refit-hm exited while waiting for ${what}: ${this.#stderr}`);
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}; stderr: ${this.#stderr}\nlast lines:\n${this.tail()}`,
        );
      await sleep(20);
    }
  }

  /**
   * The last `count` lines other than the per-pass `Analyzed` and `director polled`, repeats
   * folded (`×n`): what a failed wait shows, so a CI log says what the monitor saw.
   */
  tail(count = 30): string {
    const shown: string[] = [];
    let previous = '';
    let repeats = 0;
    const flush = () => {
      if (previous !== '') shown.push(repeats > 1 ? `${previous} ×${repeats}` : previous);
    };
    for (const line of this.lines) {
      if (line.msg === 'Analyzed' || line.msg === 'director polled') continue;
      const { time: _time, receivedAt: _at, ...rest } = line;
      const text = JSON.stringify(rest);
      if (text === previous) {
        repeats += 1;
        continue;
      }
      flush();
      previous = text;
      repeats = 1;
    }
    flush();
    return shown.slice(-count).join('\n');
  }

  /** SIGTERM, SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
