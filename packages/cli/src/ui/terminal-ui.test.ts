import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { StoppedError } from '../errors.ts';
import { block, line, result, tableItem, text, warning } from '../output.ts';
import { LineReader } from './line-reader.ts';
import { TerminalUi, type OutputMode } from './terminal-ui.ts';

function makeUi(mode: OutputMode, options: { interactive?: boolean; stdin?: string } = {}) {
  const out = { stdout: '', stderr: '' };
  const lines = new LineReader(Readable.from(options.stdin === undefined ? [] : [options.stdin]));
  const ui = new TerminalUi(
    { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), lines },
    { mode, interactive: options.interactive ?? false },
  );
  return { ui, out, lines };
}

const table = tableItem({ content: 'things', header: ['A'], rows: [[text('x')]] });

describe('TerminalUi', () => {
  it('pads kinds of output with blank lines as the stock CLI on a terminal', () => {
    const { ui, out } = makeUi('tty');
    ui.show(line('Using environment'));
    ui.finish(result(table, block('yaml: 1\n')));
    assert.equal(out.stdout, 'Using environment\n\nA  \nx  \n\n1 things\n\nyaml: 1\n\nSucceeded\n');
  });

  it('prints data only when piped: no status lines, undecorated tables, blocks as they are', () => {
    const { ui, out } = makeUi('plain');
    ui.show(line('Using environment'));
    ui.show(warning('careful'));
    ui.finish(result(table, block('yaml: 1\n')));
    assert.equal(out.stdout, 'x\t\nyaml: 1\n');
    assert.equal(out.stderr, 'careful\n');
  });

  it('collects everything, task output included, into one JSON document', () => {
    const { ui, out } = makeUi('json');
    ui.show(line('Using environment'));
    const sink = ui.taskSink('events');
    sink.taskStarted(4);
    sink.taskOutputChunk(4, '{"time":0,"stage":"S","tags":[],"task":"T","state":"started"}\n');
    sink.taskFinished(4, 'done');
    ui.finish(result(table));
    const document = JSON.parse(out.stdout) as {
      Tables: { Rows: unknown[] }[];
      Blocks: string[];
      Lines: string[];
    };
    assert.deepEqual(document.Tables[0]?.Rows, [{ a: 'x' }]);
    assert.deepEqual(document.Blocks, ['\nTask 4 | 00:00:00 | S: T']);
    assert.equal(document.Lines[0], 'Using environment');
    assert.equal(document.Lines[1], 'Task 4');
    assert.equal(document.Lines.at(-1), 'Succeeded');
  });

  it('reports a failure on stderr with the exit code, or inside the JSON document', () => {
    const tty = makeUi('tty');
    tty.ui.fail(new Error('boom'));
    assert.equal(tty.out.stderr, 'boom\n\nExit code 1\n');
    const json = makeUi('json');
    json.ui.fail(new Error('boom'));
    assert.deepEqual(JSON.parse(json.out.stdout).Lines, ['boom', 'Exit code 1']);
  });

  it('confirms from stdin, says yes by itself under -n, refuses to ask in JSON mode', async () => {
    const yes = makeUi('tty', { interactive: true, stdin: 'y\n' });
    await yes.ui.confirm();
    assert.equal(yes.out.stdout, 'Continue? [yN]: ');
    const no = makeUi('tty', { interactive: true, stdin: '\n' });
    await assert.rejects(no.ui.confirm(), StoppedError);
    const nonInteractive = makeUi('tty', { interactive: false });
    await nonInteractive.ui.confirm();
    assert.equal(nonInteractive.out.stdout, '');
    await assert.rejects(makeUi('json', { interactive: true }).ui.confirm(), /JSON mode/);
    await assert.rejects(makeUi('tty', { interactive: false }).ui.askText('Username'), /non-interactive/);
    [yes, no].forEach((u) => u.lines.close());
  });
});
