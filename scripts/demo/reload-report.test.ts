import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debugFigures, renderReport, reportRows, timelines } from './reload-report.ts';

const id = 'web/12c389ac-60f7-4c4b-93eb-5fea7d3f93a2';
const event = (time: number, status: string | null, state = 'in_progress') =>
  JSON.stringify({
    time,
    stage: 'Updating instance',
    task: `${id} (0) (canary)`,
    state,
    ...(status === null ? {} : { data: { status } }),
  });

describe('reload report', () => {
  it('takes drain start → post-start from the event log, and the last size fetched', () => {
    const log = [
      event(100, null, 'started'),
      event(100, 'staged rootfs 1.2 (54 MB of 54 MB fetched)'),
      event(103, 'executing pre-stop'),
      event(104, 'executing drain'),
      event(112, 'executing post-start'),
      event(113, null, 'finished'),
    ].join('\n');
    assert.deepEqual(timelines(log).get(id), { drainStart: 103, jobsRunning: 112, fetched: '54 MB' });
  });

  it('prefers the debug log figures, and flags changed data and new VMs', () => {
    const debug =
      `2026-11-24T21:56:17.000Z INFO reload ${id} (0) (canary): done on refit-quick/1.2, ` +
      'downtime 12345 ms (drain start → jobs running), 54321000 bytes fetched\n';
    const figures = debugFigures(debug);
    assert.deepEqual(figures.get(id), { downtimeMs: 12345, bytesFetched: 54321000 });
    const rows = reportRows({
      before: new Map([[id, { cid: 'vm-1', stemcell: 'refit-quick/1.1', dataSha256: 'aa' }]]),
      after: new Map([[id, { cid: 'vm-1', stemcell: 'refit-quick/1.2', dataSha256: 'aa' }]]),
      plan: new Map([[id, { strategy: 'reload', download: '51 MiB' }]]),
      events: new Map(),
      debug: figures,
    });
    assert.equal(rows[0]?.dataIntact, true);
    const text = renderReport(rows);
    assert.match(
      text,
      /web\/12c389ac…\s+reload\s+vm-1 → same\s+refit-quick\/1\.1 → refit-quick\/1\.2\s+12\.3 s\s+54\.3 MB\s+sha256 ok/,
    );

    const changed = reportRows({
      before: new Map([[id, { cid: 'vm-1', stemcell: 'refit-quick/1.1', dataSha256: 'aa' }]]),
      after: new Map([[id, { cid: 'vm-2', stemcell: 'refit-quick/1.2', dataSha256: 'bb' }]]),
      plan: new Map(),
      events: new Map(),
      debug: new Map(),
    });
    assert.equal(changed[0]?.dataIntact, false);
    assert.match(renderReport(changed), /vm-1 → vm-2 .* \?\s+\?\s+CHANGED/);
  });
});
