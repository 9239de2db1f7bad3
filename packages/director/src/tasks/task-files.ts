import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskOutputType } from '@refit/protocol';
import type { TaskLog } from './task-context.ts';

/** `<stateDir>/tasks/<id>/<type>`: where BOSH keeps a task's outputs too. */
export function taskOutputPath(stateDir: string, taskId: number, type: TaskOutputType): string {
  return join(stateDir, 'tasks', String(taskId), type);
}

/**
 * An append-only output file, created at the first write (so "no output" stays a missing file).
 * Writes are synchronous: lines land in order and are on disk before the task's state changes.
 */
export class AppendFile implements TaskLog {
  readonly path: string;
  #fd: number | null = null;
  #closed = false;

  constructor(path: string) {
    this.path = path;
  }

  write(text: string): void {
    if (this.#closed || text.length === 0) return;
    if (this.#fd === null) {
      mkdirSync(join(this.path, '..'), { recursive: true });
      this.#fd = openSync(this.path, 'a', 0o600);
    }
    writeSync(this.#fd, text.endsWith('\n') ? text : `${text}\n`);
  }

  close(): void {
    this.#closed = true;
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
