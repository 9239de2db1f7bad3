import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { diffItem, result } from '../output.ts';
import { renderDiff } from './diff-render.ts';
import { LineReader } from './line-reader.ts';
import { TerminalUi, type OutputMode } from './terminal-ui.ts';

const lines = [
  { text: 'name: zk', mark: undefined },
  { text: 'instances: 3', mark: 'added' },
  { text: 'instances: 2', mark: 'removed' },
] as const;

function printed(mode: OutputMode, color: boolean): string {
  let out = '';
  const ui = new TerminalUi(
    { stdout: (t) => (out += t), stderr: () => undefined, lines: new LineReader(Readable.from([])) },
    { mode, interactive: false, color },
  );
  ui.finish(result(diffItem(lines)));
  return out;
}

describe('diff rendering', () => {
  it('writes the stock + / - / two-space lines, green and red only when colored', () => {
    assert.equal(renderDiff(lines, false), '  name: zk\n+ instances: 3\n- instances: 2\n');
    assert.equal(
      renderDiff(lines, true),
      '  name: zk\n\u001b[32m+ instances: 3\u001b[0m\n\u001b[31m- instances: 2\u001b[0m\n',
    );
  });

  it('colors only a terminal: not piped output, not --no-color, and JSON gets the plain block', () => {
    assert.ok(printed('tty', true).includes('\u001b[32m+ instances: 3\u001b[0m\n'));
    assert.equal(printed('tty', false), '  name: zk\n+ instances: 3\n- instances: 2\n\nSucceeded\n');
    assert.equal(printed('plain', true), '  name: zk\n+ instances: 3\n- instances: 2\n');
    assert.deepEqual(JSON.parse(printed('json', true)).Blocks, [
      '  name: zk\n+ instances: 3\n- instances: 2\n',
    ]);
  });
});
