import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventLine } from '@refit/protocol';
import { JsonEventLog } from './json-event-log.ts';

function capture() {
  const lines: string[] = [];
  const log = new JsonEventLog(
    (line) => lines.push(line),
    () => 1700000000,
  );
  return { log, parsed: () => lines.map((line) => EventLine.parse(JSON.parse(line))), lines };
}

describe('JsonEventLog', () => {
  it('writes started/in_progress/finished lines with 1-based indexes per stage', async () => {
    const { log, parsed, lines } = capture();
    const stage = log.stage('Update stemcell', { total: 2, tags: ['s'] });
    await stage.task('Extracting stemcell archive', async (progress) => {
      progress.status('half way', 50);
      return Promise.resolve();
    });
    await stage.task('Verifying stemcell manifest', () => Promise.resolve());
    assert.ok(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
    assert.deepEqual(parsed(), [
      {
        time: 1700000000,
        stage: 'Update stemcell',
        tags: ['s'],
        total: 2,
        task: 'Extracting stemcell archive',
        index: 1,
        state: 'started',
        progress: 0,
      },
      {
        time: 1700000000,
        stage: 'Update stemcell',
        tags: ['s'],
        total: 2,
        task: 'Extracting stemcell archive',
        index: 1,
        state: 'in_progress',
        progress: 50,
        data: { status: 'half way' },
      },
      {
        time: 1700000000,
        stage: 'Update stemcell',
        tags: ['s'],
        total: 2,
        task: 'Extracting stemcell archive',
        index: 1,
        state: 'finished',
        progress: 100,
      },
      {
        time: 1700000000,
        stage: 'Update stemcell',
        tags: ['s'],
        total: 2,
        task: 'Verifying stemcell manifest',
        index: 2,
        state: 'started',
        progress: 0,
      },
      {
        time: 1700000000,
        stage: 'Update stemcell',
        tags: ['s'],
        total: 2,
        task: 'Verifying stemcell manifest',
        index: 2,
        state: 'finished',
        progress: 100,
      },
    ]);
  });

  it('writes a failed line with data.error and rethrows', async () => {
    const { log, parsed } = capture();
    await assert.rejects(
      log.stage('S').task('t', () => Promise.reject(new Error('it broke "badly"\nsecond line'))),
      /it broke/,
    );
    const last = parsed().at(-1);
    assert.deepEqual(last, {
      time: 1700000000,
      stage: 'S',
      tags: [],
      total: null,
      task: 't',
      index: 1,
      state: 'failed',
      progress: 100,
      data: { error: 'it broke "badly"\nsecond line' },
    });
  });

  it('writes warning and error lines', () => {
    const { log, parsed } = capture();
    log.warning('careful');
    log.error(50005, 'bad digest');
    assert.deepEqual(parsed(), [
      { time: 1700000000, type: 'warning', message: 'careful' },
      { time: 1700000000, error: { code: 50005, message: 'bad digest' } },
    ]);
  });
});
