import type { TaskOutputSink } from '../director-client/follow-task.ts';
import { formatDuration, formatFullTime, formatHours } from './time-format.ts';

/**
 * Where the reporter writes: `line` is the stock UI's BeginLinef/EndLinef (suppressed when output
 * is piped), `block` its PrintBlock/PrintErrorBlock (always shown).
 */
export interface ReporterOutput {
  line(text: string): void;
  block(text: string): void;
}

interface TaskEvent {
  readonly taskId: number;
  readonly time: number;
  readonly type: string;
  readonly message: string;
  readonly state: string;
  readonly stage: string;
  readonly task: string;
  readonly tags: readonly string[];
  readonly status: string;
  readonly dataError: string;
  readonly error: { readonly message: string } | undefined;
  start?: TaskEvent | undefined;
}

type Marker = { readonly taskId: number; readonly kind: 'started' | 'output' | 'ended' };

/**
 * Renders followed tasks exactly as the stock CLI (ui/task/reporter.go): for the event log
 * `Task <id> | HH:MM:SS | <stage> <tags>: <task> (<duration>)`, `L <status>: <task>`,
 * `L Error: …`, then `Task <id> Started/Finished/Duration` and `Task <id> <state>`; for other
 * logs (result, debug, cpi) the raw chunks between `Task <id>` and `Task <id> <state>`.
 */
export class TaskReporter implements TaskOutputSink {
  private readonly out: ReporterOutput;
  private readonly forEvents: boolean;
  private readonly events = new Map<number, TaskEvent[]>();
  private readonly markers: Marker[] = [];
  private readonly rest = new Map<number, string>();
  private lastGlobal: TaskEvent | undefined;

  constructor(out: ReporterOutput, forEvents: boolean) {
    this.out = out;
    this.forEvents = forEvents;
  }

  taskStarted(id: number): void {
    if (this.markers.length > 0) this.out.line('\n');
    this.markers.push({ taskId: id, kind: 'started' });
    this.events.set(id, []);
    this.lastGlobal = blankEvent(id);
    this.out.line(`Task ${id}`);
  }

  taskOutputChunk(id: number, chunk: string): void {
    if (this.noOutputSinceStarted(id)) {
      this.out.line('\n');
      if (!this.forEvents) this.out.line('\n');
    }
    if (this.forEvents) {
      let buffer = (this.rest.get(id) ?? '') + chunk;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const text = buffer.slice(0, nl);
        if (text.length > 0) this.showEvent(id, text);
        buffer = buffer.slice(nl + 1);
      }
      this.rest.set(id, buffer);
    } else {
      this.out.block(chunk);
    }
    this.markers.push({ taskId: id, kind: 'output' });
  }

  taskFinished(id: number, state: string): void {
    const events = this.events.get(id) ?? [];
    const first = events[0];
    const last = events[events.length - 1];
    if (first !== undefined && last !== undefined) {
      this.out.line(
        `\n\nTask ${id} Started  ${formatFullTime(first.time)}\nTask ${id} Finished ${formatFullTime(last.time)}` +
          `\nTask ${id} Duration ${formatDuration(last.time - first.time)}`,
      );
    }
    if (this.noOutputSinceStarted(id)) this.out.line(`. ${titleCase(state)}\n`);
    else this.out.line(`\nTask ${id} ${state}\n`);
    this.markers.push({ taskId: id, kind: 'ended' });
  }

  private showEvent(id: number, json: string): void {
    const event = parseEvent(id, json);
    if (event === undefined) {
      // The stock CLI panics on a line that is not JSON; show it instead.
      this.out.block(`\nTask ${id} | ${json}`);
      return;
    }
    const events = this.events.get(id) ?? [];
    event.start = events.find((e) => isSame(e, event));
    const prefix = `\nTask ${id} | ${formatHours(event.time)} | `;
    const errorLine = `\n     ${' '.repeat(String(id).length)}            L Error: ${event.dataError}`;
    const duration = event.start === undefined ? '' : formatDuration(event.time - event.start.time);

    if (this.lastGlobal !== undefined && isSame(this.lastGlobal, event)) {
      if (event.state === 'finished') this.out.block(` (${duration})`);
      else if (event.state === 'in_progress') this.out.block(`${prefix}L ${event.status}: ${event.task}`);
      else if (event.state === 'failed') this.out.block(` (${duration})${errorLine}`);
    } else {
      if (
        this.lastGlobal !== undefined &&
        this.lastGlobal.taskId !== id &&
        (event.type === 'deprecation' || event.error !== undefined)
      ) {
        this.out.block('\n');
      }
      const desc = event.tags.length > 0 ? `${event.stage} ${event.tags.join(', ')}` : event.stage;
      if (event.type === 'deprecation') this.out.block(`${prefix}Deprecation: ${event.message}`);
      else if (event.type === 'warning') this.out.block(`${prefix}Warning: ${event.message}`);
      else if (event.state === 'started') this.out.block(`${prefix}${desc}: ${event.task}`);
      else if (event.state === 'in_progress')
        this.out.block(`${prefix}${desc}: ${event.task}${prefix}L ${event.status}: ${event.task}`);
      else if (event.state === 'finished') this.out.block(`${prefix}${desc}: ${event.task} (${duration})`);
      else if (event.state === 'failed')
        this.out.block(`${prefix}${desc}: ${event.task} (${duration})${errorLine}`);
      else if (event.error !== undefined) this.out.block(`${prefix}Error: ${event.error.message}`);
    }
    events.push(event);
    this.events.set(id, events);
    this.lastGlobal = event;
  }

  private noOutputSinceStarted(id: number): boolean {
    const last = this.markers[this.markers.length - 1];
    return last === undefined || (last.taskId === id && last.kind === 'started');
  }
}

function blankEvent(taskId: number): TaskEvent {
  return {
    taskId,
    time: 0,
    type: '',
    message: '',
    state: '',
    stage: '',
    task: '',
    tags: [],
    status: '',
    dataError: '',
    error: undefined,
  };
}

/** Same stage, tags and task of the same task id: one line in the output. */
function isSame(a: TaskEvent, b: TaskEvent): boolean {
  return (
    a.taskId === b.taskId &&
    a.stage !== '' &&
    a.stage === b.stage &&
    a.task === b.task &&
    a.tags.length === b.tags.length &&
    a.tags.every((tag, i) => tag === b.tags[i])
  );
}

function parseEvent(taskId: number, json: string): TaskEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  const data = (typeof o['data'] === 'object' && o['data'] !== null ? o['data'] : {}) as Record<
    string,
    unknown
  >;
  const error =
    typeof o['error'] === 'object' && o['error'] !== null
      ? (o['error'] as Record<string, unknown>)
      : undefined;
  return {
    ...blankEvent(taskId),
    time: typeof o['time'] === 'number' ? o['time'] : 0,
    type: s(o['type']),
    message: s(o['message']),
    state: s(o['state']),
    stage: s(o['stage']),
    task: s(o['task']),
    tags: Array.isArray(o['tags']) ? o['tags'].map((t) => s(t)) : [],
    status: s(data['status']),
    dataError: s(data['error']),
    error: error === undefined ? undefined : { message: s(error['message']) },
  };
}

function titleCase(text: string): string {
  return text.replace(
    /(^|[^\p{L}\p{N}'])(\p{L})/gu,
    (_m, before: string, letter: string) => before + letter.toUpperCase(),
  );
}
