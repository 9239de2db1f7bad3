import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isAlive, readPidfile } from '../jobs/pid.ts';
import { agentFixture, applySpec, daemonCtl, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';
import { start } from './start.ts';

describe('stop', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await agentFixture();
  });
  afterEach(() => f.close());

  it('stops dependents before what they depend on, kills what the stop program leaves, marks stopped', async () => {
    const run = join(f.dir, 'run');
    const order = join(f.dir, 'order');
    const jobs = join(f.base, 'var/vcap/jobs');
    const archive = await f.blob('rta', {
      'db/bin/ctl': exe(daemonCtl(`${run}/db.pid`).replace('case', `echo "$1 db" >> ${order}\ncase`)),
      'db/monit': `check process db with pidfile ${run}/db.pid start program "${jobs}/db/bin/ctl start" stop program "${jobs}/db/bin/ctl stop" group vcap\n`,
      // The app's stop program does nothing: the agent must still bring the process down.
      'app/bin/ctl': exe(daemonCtl(`${run}/app.pid`).replace('case', `echo "$1 app" >> ${order}\ncase`)),
      'app/monit': `check process app with pidfile ${run}/app.pid start program "${jobs}/app/bin/ctl start" stop program "/bin/true" with timeout 1 seconds depends on db group vcap\n`,
    });
    await f.run(apply, [
      applySpec({ jobs: ['app', 'db'], archive: { blobstore_id: 'rta', sha1: archive.sha1 } }),
    ]);
    await f.run(start, []);
    await f.ctx.supervisor.startAll();
    const pids = [await readPidfile(`${run}/app.pid`), await readPidfile(`${run}/db.pid`)];
    assert.ok(pids.every((p) => p !== null));
    assert.deepEqual(await f.call('stop'), { value: 'stopped' });
    for (const pid of pids) assert.equal(await isAlive(pid ?? 0), false);
    assert.deepEqual((await readFile(order, 'utf8')).trim().split('\n'), [
      'start db',
      'start app',
      'stop db',
    ]);
    await access(f.ctx.paths.stoppedMarker);
  });
});
