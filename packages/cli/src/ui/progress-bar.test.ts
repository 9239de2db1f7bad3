import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProgress, ProgressBar } from './progress-bar.ts';

describe('upload progress', () => {
  it('shows the bar, percent, bytes and rate', () => {
    assert.equal(
      formatProgress(512 * 1024, 1024 * 1024, 500, 10),
      '[#####-----]  50.00%  512 KiB / 1.0 MiB  1.0 MiB/s',
    );
    assert.equal(formatProgress(0, 2048, 0, 4), '[----]   0.00%  0 B / 2.0 KiB');
  });

  it('redraws in place at most every interval and ends the line at 100%', () => {
    let clock = 0;
    const written: string[] = [];
    const bar = new ProgressBar(
      (t) => written.push(t),
      () => clock,
      100,
    );
    bar.update(0, 100);
    clock = 50;
    bar.update(40, 100); // too soon: skipped
    clock = 150;
    bar.update(60, 100);
    clock = 160;
    bar.update(100, 100); // the end is always drawn
    bar.update(100, 100);
    assert.equal(written.length, 3);
    assert.ok(written.every((t) => t.startsWith('\r')));
    assert.ok(written[2]?.endsWith('\n'));
    assert.match(written[1] ?? '', /60\.00%/);
  });
});
