import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ERRAND_OUTPUT_LIMIT } from '@refit/protocol';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

describe('run_errand', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture({ scriptTimeoutMs: 60_000 });
    const big = ERRAND_OUTPUT_LIMIT + 5000;
    const archive = await f.blob('rta', {
      'svc/monit': '',
      'smoke/bin/run': exe('#!/bin/sh\necho "hello from smoke"\necho "warn" >&2\nexit 3\n'),
      'ok/bin/run': exe('#!/bin/sh\necho fine\n'),
      // Writes `big` bytes of 'x' then a marker: only the tail is answered.
      'chatty/bin/run': exe(`#!/bin/sh\nhead -c ${big} /dev/zero | tr '\\0' x\necho END\n`),
      'slow/bin/run': exe(
        `#!/bin/sh\necho $$ > ${join(f.dir, 'slow.pid.new')}\nmv ${join(f.dir, 'slow.pid.new')} ${join(f.dir, 'slow.pid')}\nexec sleep 60\n`,
      ),
    });
    await f.run(apply, [
      applySpec({
        jobs: ['svc', 'smoke', 'ok', 'chatty', 'slow'],
        archive: { blobstore_id: 'rta', sha1: archive.sha1 },
      }),
    ]);
  });
  after(() => f.close());

  it('answers the exit code, stdout and stderr of the named job and logs them', async () => {
    const outcome = await f.call('run_errand', ['smoke']);
    assert.deepEqual(outcome, { value: { exit_code: 3, stdout: 'hello from smoke\n', stderr: 'warn\n' } });
    const log = await readFile(join(f.base, 'var/vcap/sys/log/smoke/errand.stdout.log'), 'utf8');
    assert.equal(log, 'hello from smoke\n');
  });

  it('without a name runs the first job that has a bin/run', async () => {
    assert.deepEqual(await f.call('run_errand', []), {
      value: { exit_code: 3, stdout: 'hello from smoke\n', stderr: 'warn\n' },
    });
  });

  it('answers only this run, not earlier runs logged in the same file', async () => {
    await f.call('run_errand', ['ok']);
    assert.deepEqual(await f.call('run_errand', ['ok']), {
      value: { exit_code: 0, stdout: 'fine\n', stderr: '' },
    });
  });

  it('keeps the last ERRAND_OUTPUT_LIMIT bytes of a long output', async () => {
    const outcome = await f.call('run_errand', ['chatty']);
    assert.ok('value' in outcome);
    const { stdout, exit_code } = outcome.value as { stdout: string; exit_code: number };
    assert.equal(exit_code, 0);
    assert.equal(stdout.length, ERRAND_OUTPUT_LIMIT);
    assert.ok(stdout.endsWith('xxxxEND\n'));
  });

  it('a job without bin/run is an exception', async () => {
    const outcome = await f.call('run_errand', ['svc']);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /Running errand script: .*svc\/bin\/run is not an executable/);
  });

  it('cancel_task kills the running script and fails the task', async () => {
    const first = await f.dispatcher.dispatch('run_errand', ['slow']);
    assert.ok('value' in first);
    const { agent_task_id: id } = first.value as { agent_task_id: string };
    const pidFile = join(f.dir, 'slow.pid');
    const pid = await waitForPid(pidFile);
    assert.deepEqual(await f.dispatcher.dispatch('cancel_task', [id]), { value: 'canceled' });
    const outcome = await f.call('get_task', [id], 15_000);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /slow was cancelled/);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });
});

async function waitForPid(file: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim() !== '') return Number(text.trim());
    if (Date.now() > deadline) throw new Error(`no pid in ${file} after 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
