import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

describe('run_script', () => {
  let f: AgentFixture;
  // Scripts that must finish get 30 s (shells starting on a loaded 2-core machine); only the
  // timeout test makes its own fixture with a short timeout.
  beforeEach(async () => {
    f = await agentFixture({ scriptTimeoutMs: 30_000 });
  });
  afterEach(() => f.close());

  async function deploy(files: Record<string, ReturnType<typeof exe> | string>): Promise<void> {
    const archive = await f.blob('rta', files);
    await f.run(apply, [
      applySpec({ jobs: ['a', 'b', 'c'], archive: { blobstore_id: 'rta', sha1: archive.sha1 } }),
    ]);
  }
  const log = (job: string, name: string): Promise<string> =>
    readFile(join(f.base, 'var/vcap/sys/log', job, name), 'utf8');

  it('runs the script of every job that has one, in parallel, with env, logging stdout and stderr', async () => {
    const marks = join(f.dir, 'marks');
    // Each script waits for the other's mark: only a parallel run finishes.
    const script = (me: string, other: string): string =>
      `#!/bin/sh\ntouch ${marks}-${me}\nwhile [ ! -f ${marks}-${other} ]; do sleep 0.05; done\necho "$BOSH_VM_NEXT_STATE from ${me}"\necho oops >&2\n`;
    await deploy({
      'a/bin/pre-stop': exe(script('a', 'b')),
      'b/bin/pre-stop': exe(script('b', 'a')),
      'c/monit': '',
    });
    const outcome = await f.call('run_script', ['pre-stop', { env: { BOSH_VM_NEXT_STATE: 'keep' } }]);
    assert.deepEqual(outcome, { value: {} });
    assert.equal(await log('a', 'pre-stop.stdout.log'), 'keep from a\n');
    assert.equal(await log('b', 'pre-stop.stderr.log'), 'oops\n');
  });

  it('fails naming the failed and the successful jobs', async () => {
    await deploy({ 'a/bin/post-start': exe('#!/bin/sh\nexit 4\n'), 'b/bin/post-start': exe('#!/bin/sh\n') });
    const outcome = await f.call('run_script', ['post-start', {}]);
    assert.ok('exception' in outcome);
    assert.match(
      outcome.exception,
      /1 of 2 post-start scripts failed\. Failed Jobs: a \(exit 4\)\. Successful Jobs: b\./,
    );
  });

  it('kills a script that outlives the timeout', async () => {
    await f.close();
    f = await agentFixture({ scriptTimeoutMs: 1500 });
    await deploy({ 'a/bin/post-deploy': exe(`#!/bin/sh\nsleep 30\n`) });
    const outcome = await f.call('run_script', ['post-deploy', {}]);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /Failed Jobs: a \(timed out or cancelled\)/);
  });

  it('refuses a script name that is not a lifecycle script', async () => {
    const outcome = await f.dispatcher.dispatch('run_script', ['rm-rf', {}]);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /^Action Failed run_script: invalid arguments/);
  });
});
