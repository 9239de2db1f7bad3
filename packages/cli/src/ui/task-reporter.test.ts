import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskReporter, type ReporterOutput } from './task-reporter.ts';

function capture(): { out: ReporterOutput; text: () => string; blocks: string[] } {
  let all = '';
  const blocks: string[] = [];
  return {
    out: {
      line: (t) => (all += t),
      block: (t) => {
        all += t;
        blocks.push(t);
      },
    },
    text: () => all,
    blocks,
  };
}

const ev = (o: Record<string, unknown>): string => `${JSON.stringify(o)}\n`;
const t0 = 1764016200; // 2025-11-24T20:30:00Z

describe('TaskReporter (event log)', () => {
  it('renders stages, tags, in-progress statuses, durations and the summary as the stock CLI', () => {
    const c = capture();
    const r = new TaskReporter(c.out, true);
    const stage = { stage: 'Updating instance', tags: ['web', 'api'], total: 1, index: 1 };
    const task = 'web/5e (0) (canary)';
    r.taskStarted(42);
    r.taskOutputChunk(
      42,
      ev({ time: t0, stage: 'Preparing deployment', tags: [], task: 'Binding releases', state: 'started' }) +
        ev({
          time: t0 + 1,
          stage: 'Preparing deployment',
          tags: [],
          task: 'Binding releases',
          state: 'finished',
        }) +
        ev({ time: t0 + 2, ...stage, task, state: 'started' }) +
        // A chunk may end in the middle of a line.
        ev({
          time: t0 + 3,
          ...stage,
          task,
          state: 'in_progress',
          data: { status: 'executing pre-stop' },
        }).slice(0, 20),
    );
    r.taskOutputChunk(
      42,
      ev({
        time: t0 + 3,
        ...stage,
        task,
        state: 'in_progress',
        data: { status: 'executing pre-stop' },
      }).slice(20) +
        ev({ time: t0 + 65, ...stage, task, state: 'finished' }) +
        ev({ time: t0 + 66, type: 'warning', message: 'You have ignored instances.' }),
    );
    r.taskFinished(42, 'done');
    assert.equal(
      c.text(),
      [
        'Task 42',
        '',
        'Task 42 | 20:30:00 | Preparing deployment: Binding releases (00:00:01)',
        'Task 42 | 20:30:02 | Updating instance web, api: web/5e (0) (canary)',
        'Task 42 | 20:30:03 | L executing pre-stop: web/5e (0) (canary) (00:01:03)',
        'Task 42 | 20:31:06 | Warning: You have ignored instances.',
        '',
        'Task 42 Started  Mon Nov 24 20:30:00 UTC 2025',
        'Task 42 Finished Mon Nov 24 20:31:06 UTC 2025',
        'Task 42 Duration 00:01:06',
        'Task 42 done',
        '',
      ].join('\n'),
    );
  });

  it('renders a failed step with its indented L Error line and the task error', () => {
    const c = capture();
    const r = new TaskReporter(c.out, true);
    r.taskStarted(7);
    r.taskOutputChunk(
      7,
      ev({
        time: t0,
        stage: 'Update stemcell',
        tags: [],
        task: 'Uploading stemcell s/1 to the cloud',
        state: 'started',
      }) +
        ev({
          time: t0 + 3,
          stage: 'Update stemcell',
          tags: [],
          task: 'Uploading stemcell s/1 to the cloud',
          state: 'failed',
          data: { error: 'CPI crashed' },
        }) +
        ev({ time: t0 + 3, error: { code: 100001, message: 'CPI crashed' } }),
    );
    r.taskFinished(7, 'error');
    assert.equal(
      c.text(),
      'Task 7\n\n' +
        'Task 7 | 20:30:00 | Update stemcell: Uploading stemcell s/1 to the cloud (00:00:03)\n' +
        '                  L Error: CPI crashed\n' +
        'Task 7 | 20:30:03 | Error: CPI crashed\n\n' +
        'Task 7 Started  Mon Nov 24 20:30:00 UTC 2025\n' +
        'Task 7 Finished Mon Nov 24 20:30:03 UTC 2025\n' +
        'Task 7 Duration 00:00:03\n' +
        'Task 7 error\n',
    );
  });

  it('puts the state on the Task line when there was no output', () => {
    const c = capture();
    const r = new TaskReporter(c.out, true);
    r.taskStarted(3);
    r.taskFinished(3, 'cancelled');
    assert.equal(c.text(), 'Task 3. Cancelled\n');
  });

  it('shows a line that is not JSON instead of failing', () => {
    const c = capture();
    const r = new TaskReporter(c.out, true);
    r.taskStarted(3);
    r.taskOutputChunk(3, 'garbage\n');
    assert.deepEqual(c.blocks, ['\nTask 3 | garbage']);
  });
});

describe('TaskReporter (result, debug, cpi logs)', () => {
  it('prints the raw chunks between Task N and Task N <state>', () => {
    const c = capture();
    const r = new TaskReporter(c.out, false);
    r.taskStarted(9);
    r.taskOutputChunk(9, '/stemcells/s/1\n');
    r.taskFinished(9, 'done');
    assert.equal(c.text(), 'Task 9\n\n/stemcells/s/1\n\nTask 9 done\n');
    assert.deepEqual(c.blocks, ['/stemcells/s/1\n']);
  });
});
