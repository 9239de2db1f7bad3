import type { CommandUi } from '../command.ts';
import type { TaskOutputSink } from '../director-client/follow-task.ts';
import type { UploadProgress } from '../director-client/upload-body.ts';
import { CliError, StoppedError } from '../errors.ts';
import type { CommandResult, OutputItem } from '../output.ts';
import { jsonTable, renderJsonDocument, type JsonDocument } from './json-document.ts';
import type { LineReader } from './line-reader.ts';
import { ProgressBar } from './progress-bar.ts';
import { renderDiff } from './diff-render.ts';
import { renderTable } from './table-render.ts';
import { TaskReporter, type ReporterOutput } from './task-reporter.ts';

/**
 * `tty`: the human layout (stdout is a terminal, or --tty). `plain`: piped output as the stock CLI
 * prints it (data only: no decorations, no status lines). `json`: one `--json` document at the end.
 */
export type OutputMode = 'tty' | 'plain' | 'json';

export interface TerminalIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly lines: LineReader;
}

/** The only place the CLI prints: renders command data in the stock CLI's layout. */
export class TerminalUi implements CommandUi {
  private readonly io: TerminalIo;
  private readonly mode: OutputMode;
  private readonly interactive: boolean;
  /** ANSI colors (diffs): only on a real terminal, never with --no-color. */
  private readonly color: boolean;
  private readonly document: JsonDocument = { tables: [], blocks: [], lines: [] };
  /** What was printed last, for the stock CLI's blank lines between kinds of output. */
  private last: 'nothing' | 'line' | 'other' = 'nothing';

  constructor(
    io: TerminalIo,
    options: { readonly mode: OutputMode; readonly interactive: boolean; readonly color?: boolean },
  ) {
    this.io = io;
    this.mode = options.mode;
    this.interactive = options.interactive;
    this.color = options.color === true && options.mode === 'tty';
  }

  show(item: OutputItem): void {
    switch (item.kind) {
      case 'line':
        return this.printLine(item.text);
      case 'warning':
        if (this.mode === 'json') this.document.lines.push(item.text);
        else this.io.stderr(`${item.text}\n`);
        return;
      case 'block':
        return this.printOther(item.text, (text) => this.document.blocks.push(text));
      case 'diff':
        return this.printOther(renderDiff(item.lines, this.color), (text) => this.document.blocks.push(text));
      case 'table':
        if (this.mode === 'json') this.document.tables.push(jsonTable(item.table));
        else this.printOther(renderTable(item.table, { dataOnly: this.mode === 'plain' }), () => undefined);
        return;
    }
  }

  /** A command's result, then `Succeeded`. */
  finish(result: CommandResult): void {
    for (const item of result.items) this.show(item);
    this.printLine('Succeeded');
    this.flush();
  }

  /** An error on stderr (or in the JSON document), then `Exit code 1`. */
  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.mode === 'json') {
      this.document.lines.push(message, 'Exit code 1');
      this.flush();
      return;
    }
    if (this.last !== 'nothing') this.io.stdout(this.last === 'line' ? '' : '\n');
    this.io.stderr(`${message}\n\nExit code 1\n`);
  }

  async confirm(): Promise<void> {
    if (!this.interactive) return;
    if (this.mode === 'json') throw new CliError('usage', 'Cannot ask for confirmation in JSON mode: use -n');
    this.padBeforeOther();
    this.io.stdout('Continue? [yN]: ');
    const answer = (await this.io.lines.readLine()).trim().toLowerCase();
    this.last = 'line';
    if (answer !== 'y' && answer !== 'yes') throw new StoppedError();
  }

  async askText(label: string): Promise<string> {
    this.assertCanAsk(label);
    this.io.stdout(`${label}: `);
    this.last = 'line';
    return (await this.io.lines.readLine()).trim();
  }

  async askPassword(label: string): Promise<string> {
    this.assertCanAsk(label);
    this.io.stdout(`${label}: `);
    const secret = await this.io.lines.readHidden();
    this.io.stdout('\n');
    this.last = 'line';
    return secret;
  }

  taskSink(kind: 'events' | 'plain'): TaskOutputSink {
    const out: ReporterOutput = {
      line: (text) => {
        if (this.mode === 'tty') this.io.stdout(text);
        else if (this.mode === 'json') this.document.lines.push(text);
      },
      block: (text) => {
        if (this.mode === 'json') this.document.blocks.push(text);
        else this.io.stdout(text);
      },
    };
    const reporter = new TaskReporter(out, kind === 'events');
    return {
      taskStarted: (id) => {
        this.padBeforeOther();
        this.last = 'other';
        reporter.taskStarted(id);
      },
      taskOutputChunk: (id, chunk) => reporter.taskOutputChunk(id, chunk),
      taskFinished: (id, state) => reporter.taskFinished(id, state),
    };
  }

  uploadProgress(): UploadProgress {
    if (this.mode !== 'tty') return () => undefined;
    const bar = new ProgressBar((text) => this.io.stdout(text));
    let padded = false;
    return (sent, total) => {
      if (!padded) {
        this.padBeforeOther();
        this.last = 'line';
        padded = true;
      }
      bar.update(sent, total);
    };
  }

  private assertCanAsk(label: string): void {
    if (!this.interactive || this.mode === 'json') {
      throw new CliError('usage', `Cannot ask for '${label}' in non-interactive mode`);
    }
  }

  private printLine(text: string): void {
    if (this.mode === 'json') {
      this.document.lines.push(text);
      return;
    }
    if (this.mode === 'plain') return;
    if (this.last === 'other') this.io.stdout('\n');
    this.io.stdout(`${text}\n`);
    this.last = 'line';
  }

  private printOther(text: string, toJson: (text: string) => void): void {
    if (this.mode === 'json') {
      toJson(text);
      return;
    }
    this.padBeforeOther();
    this.io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    this.last = 'other';
  }

  private padBeforeOther(): void {
    if (this.mode === 'tty' && this.last !== 'nothing') this.io.stdout('\n');
  }

  private flush(): void {
    if (this.mode !== 'json') return;
    const { tables, blocks, lines } = this.document;
    if (tables.length + blocks.length + lines.length === 0) return;
    this.io.stdout(`${renderJsonDocument(this.document)}\n`);
  }
}
