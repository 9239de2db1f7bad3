import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLog } from '../log.ts';
import { daemonCtl, writeTree, exe } from '../testing/fixture.ts';
import { isAlive, readPidfile } from './pid.ts';
import { ProcessSupervisor } from './process-supervisor.ts';

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ProcessSupervisor', () => {
  let dir: string;
  let supervisor: ProcessSupervisor;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-supervisor-'));
    const order = join(dir, 'order.log');
    const ctl = (name: string): string =>
      daemonCtl(join(dir, `${name}.pid`)).replace(
        'case "$1" in',
        `echo "$1 ${name}" >> ${order}\ncase "$1" in`,
      );
    await writeTree(dir, {
      'a/ctl': exe(ctl('a')),
      'b/ctl': exe(ctl('b')),
      'a/monit': `check process web\n  with pidfile ${dir}/a.pid\n  start program "${dir}/a/ctl start"\n  stop program "${dir}/a/ctl stop"\n  group vcap\n  depends on db\n`,
      'b/monit': `check process db\n  with pidfile ${dir}/b.pid\n  start program "${dir}/b/ctl start"\n  stop program "${dir}/b/ctl stop"\n  group vcap\n`,
    });
    supervisor = new ProcessSupervisor({ log: silentLog, cycleMs: 100, pollMs: 20 });
  });
  after(async () => {
    await supervisor.stopAll(AbortSignal.timeout(10_000)).catch(() => {});
    supervisor.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts in dependency order and reports running', async () => {
    await supervisor.load([
      { job: 'web-job', monitFile: join(dir, 'a/monit') },
      { job: 'db-job', monitFile: join(dir, 'b/monit') },
    ]);
    await supervisor.startAll();
    const status = await supervisor.status();
    assert.deepEqual(
      status.map((s) => [s.name, s.job, s.state]),
      [
        ['db', 'db-job', 'running'],
        ['web', 'web-job', 'running'],
      ],
    );
    assert.deepEqual((await readFile(join(dir, 'order.log'), 'utf8')).trim().split('\n'), [
      'start b',
      'start a',
    ]);
  });

  it('restarts a process killed with SIGKILL, raising a "Does not exist" event', async () => {
    const events: string[] = [];
    supervisor.onEvent((e) => events.push(`${e.service} - ${e.event} - ${e.action}`));
    const before = await readPidfile(join(dir, 'a.pid'));
    assert.ok(before !== null);
    process.kill(before, 'SIGKILL');
    const after = await waitFor('a new web pid', async () => {
      const pid = await readPidfile(join(dir, 'a.pid'));
      return pid !== null && pid !== before && (await isAlive(pid)) ? pid : null;
    });
    assert.notEqual(after, before);
    const web = await waitFor('web running', async () =>
      (await supervisor.status()).find((s) => s.name === 'web' && s.state === 'running'),
    );
    assert.ok(web.restarts >= 1);
    assert.deepEqual(events, ['web - Does not exist - restart']);
  });

  it('stops in reverse order and reports stopped', async () => {
    await writeFile(join(dir, 'order.log'), '');
    const pids = [await readPidfile(join(dir, 'a.pid')), await readPidfile(join(dir, 'b.pid'))];
    await supervisor.stopAll(AbortSignal.timeout(10_000));
    assert.deepEqual((await readFile(join(dir, 'order.log'), 'utf8')).trim().split('\n'), [
      'stop a',
      'stop b',
    ]);
    for (const pid of pids) assert.equal(pid !== null && (await isAlive(pid)), false);
    assert.deepEqual(
      (await supervisor.status()).map((s) => s.state),
      ['stopped', 'stopped'],
    );
  });

  it('reports failing when the start program never yields a live pid', async () => {
    await writeTree(dir, {
      'c/monit': `check process broken\n  with pidfile ${dir}/never.pid\n  start program "/bin/true" with timeout 1 seconds\n`,
    });
    const lone = new ProcessSupervisor({ log: silentLog, cycleMs: 60_000, pollMs: 20 });
    try {
      await lone.load([{ job: 'c', monitFile: join(dir, 'c/monit') }]);
      await lone.startAll();
      assert.equal((await lone.status())[0]?.state, 'failing');
    } finally {
      lone.close();
    }
  });

  it('a reload while a start is in flight keeps following that start', async () => {
    const pidfile = join(dir, 'slow.pid');
    await writeTree(dir, {
      'slow/ctl': exe(
        `#!/bin/sh\nsleep 0.3\nsh -c 'echo $$ > ${pidfile}; exec sleep 1000' >/dev/null 2>&1 &\n`,
      ),
      'slow/monit': `check process slow\n  with pidfile ${pidfile}\n  start program "${dir}/slow/ctl" with timeout 10 seconds\n`,
    });
    const s = new ProcessSupervisor({ log: silentLog, cycleMs: 100, pollMs: 20 });
    try {
      const jobs = [{ job: 'slow', monitFile: join(dir, 'slow/monit') }];
      await s.load(jobs);
      const starting = s.startAll();
      await s.load(jobs);
      await starting;
      const status = await waitFor('slow running', async () =>
        (await s.status()).find((p) => p.state === 'running'),
      );
      assert.equal(status.name, 'slow');
    } finally {
      const pid = await readPidfile(pidfile);
      if (pid !== null) process.kill(pid, 'SIGKILL');
      s.close();
    }
  });
});
