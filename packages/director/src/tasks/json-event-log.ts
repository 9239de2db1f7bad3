import type { ErrorEventLine, EventLine, StageEventLine } from '@refit/protocol';
import type { EventLog, EventStage, StageProgress } from './task-context.ts';

type Clock = () => number;
const unixSeconds: Clock = () => Math.floor(Date.now() / 1000);

/**
 * BOSH's event log (reference §1.3): one JSON object per line. A stage numbers its tasks from 1;
 * each task writes `started` (progress 0), optional `in_progress` lines with `data.status`, then
 * `finished` (100) or `failed` (100, `data.error`).
 */
export class JsonEventLog implements EventLog {
  readonly #write: (line: string) => void;
  readonly #now: Clock;

  constructor(write: (line: string) => void, now: Clock = unixSeconds) {
    this.#write = write;
    this.#now = now;
  }

  stage(name: string, options: { tags?: readonly string[]; total?: number | null } = {}): EventStage {
    const tags = [...(options.tags ?? [])];
    const total = options.total ?? null;
    let index = 0;
    const emit = (line: Omit<StageEventLine, 'time' | 'stage' | 'tags' | 'total'>) =>
      this.#emit({ time: this.#now(), stage: name, tags, total, ...line });
    return {
      task: async <T>(task: string, fn: (progress: StageProgress) => Promise<T>): Promise<T> => {
        index += 1;
        const at = index;
        let progress = 0;
        emit({ task, index: at, state: 'started', progress: 0 });
        const reporter: StageProgress = {
          status(status: string, percent?: number) {
            if (percent !== undefined) progress = Math.max(0, Math.min(100, Math.round(percent)));
            emit({ task, index: at, state: 'in_progress', progress, data: { status } });
          },
        };
        try {
          const result = await fn(reporter);
          emit({ task, index: at, state: 'finished', progress: 100 });
          return result;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          emit({ task, index: at, state: 'failed', progress: 100, data: { error: message } });
          throw error;
        }
      },
    };
  }

  warning(message: string): void {
    this.#emit({ time: this.#now(), type: 'warning', message });
  }

  /** The task's final error line: `{"time","error":{"code","message"}}`. */
  error(code: number, message: string): void {
    const line: ErrorEventLine = { time: this.#now(), error: { code, message } };
    this.#emit(line);
  }

  #emit(line: EventLine): void {
    this.#write(`${JSON.stringify(line)}\n`);
  }
}
