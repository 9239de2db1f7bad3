import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isAlive, readPidfile } from '../jobs/pid.ts';
import { agentFixture, applySpec, daemonCtl, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';
import { getState } from './get-state.ts';

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('start and stop', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await agentFixture();
  });
  afterEach(() => f.close());

  it('start runs the processes, stop stops them and leaves the stopped marker', async () => {
    const pidfile = join(f.dir, 'run/web.pid');
    const archive = await f.blob('rta', {
      'web/bin/ctl': exe(daemonCtl(pidfile)),
      'web/monit': `check process web\n  with pidfile ${pidfile}\n  start program "${join(f.base, 'var/vcap/jobs/web/bin/ctl')} start"\n  stop program "${join(f.base, 'var/vcap/jobs/web/bin/ctl')} stop"\n  group vcap\n`,
    });
    await f.run(apply, [applySpec({ jobs: ['web'], archive: { blobstore_id: 'rta', sha1: archive.sha1 } })]);
    assert.deepEqual(await f.call('start'), { value: 'started' });
    const state = await waitFor('running', async () => {
      const s = await f.run<{ job_state: string; processes: { name: string; state: string }[] }>(
        getState,
        [],
      );
      return s.job_state === 'running' ? s : null;
    });
    assert.deepEqual(
      state.processes.map((p) => [p.name, p.state]),
      [['web', 'running']],
    );
    const pid = await readPidfile(pidfile);
    assert.ok(pid !== null && (await isAlive(pid)));

    assert.deepEqual(await f.call('stop'), { value: 'stopped' });
    assert.equal(await isAlive(pid), false);
    await access(f.ctx.paths.stoppedMarker);
    const stopped = await f.run<{ job_state: string; processes: { state: string }[] }>(getState, []);
    assert.equal(stopped.job_state, 'stopped');
    assert.deepEqual(
      stopped.processes.map((p) => p.state),
      ['stopped'],
    );

    assert.deepEqual(await f.call('start'), { value: 'started' });
    await assert.rejects(access(f.ctx.paths.stoppedMarker));
    await waitFor(
      'running again',
      async () => (await f.run<{ job_state: string }>(getState, [])).job_state === 'running',
    );
  });
});
