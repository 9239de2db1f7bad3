import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

/** A drain script that logs its arguments and env, and prints the next number from a list. */
const drainScript = (log: string, answers: string): string => `#!/bin/sh
echo "$* | $BOSH_JOB_STATE | \${BOSH_JOB_NEXT_STATE:-none}" >> ${log}
n=$(wc -l < ${log})
echo "${answers}" | cut -d' ' -f$n
`;

describe('drain', () => {
  let f: AgentFixture;
  const waits: number[] = [];
  beforeEach(async () => {
    waits.length = 0;
    f = await agentFixture({ sleep: (s) => (waits.push(s), Promise.resolve()) });
  });
  afterEach(() => f.close());

  async function deploy(
    files: Record<string, ReturnType<typeof exe> | string>,
    persistentDisk = 1024,
  ): Promise<void> {
    const archive = await f.blob('rta', files);
    const pkg = await f.blob('pkg', { f: 'x' });
    await f.run(apply, [
      applySpec({
        jobs: ['a', 'b'],
        archive: { blobstore_id: 'rta', sha1: archive.sha1 },
        packages: { p: { blobstore_id: 'pkg', sha1: pkg.sha1 } },
        persistentDisk,
      }),
    ]);
  }

  it('runs dynamic drain until the script prints a non-negative number (update)', async () => {
    const log = join(f.dir, 'a.log');
    await deploy({ 'a/bin/drain': exe(drainScript(log, '-2 -3 5')), 'b/monit': '' });
    const next = applySpec({
      jobs: ['a', 'b'],
      archive: { blobstore_id: 'rta', sha1: 'f'.repeat(40) },
      packages: {
        p: { blobstore_id: 'pkg', sha1: 'e'.repeat(40) },
        q: { blobstore_id: 'q', sha1: 'd'.repeat(40) },
      },
      hash: 'hash-2',
      persistentDisk: 0,
    });
    const outcome = await f.call('drain', ['update', next]);
    assert.deepEqual(outcome, { value: 0 });
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      'job_changed hash_changed p q | {"persistent_disk":1024} | {"persistent_disk":0}',
      'job_check_status hash_unchanged | {"persistent_disk":1024} | none',
      'job_check_status hash_unchanged | {"persistent_disk":1024} | none',
    ]);
    assert.deepEqual(waits, [2, 3, 5]);
  });

  it('runs with job_shutdown hash_unchanged on shutdown', async () => {
    const log = join(f.dir, 'a.log');
    await deploy({ 'a/bin/drain': exe(drainScript(log, '7')) });
    assert.deepEqual(await f.call('drain', ['shutdown']), { value: 0 });
    assert.equal(
      (await readFile(log, 'utf8')).trim(),
      'job_shutdown hash_unchanged | {"persistent_disk":1024} | none',
    );
    assert.deepEqual(waits, [7]);
  });

  it('fails when a script exits non-zero or prints something else than an integer', async () => {
    await deploy({ 'a/bin/drain': exe('#!/bin/sh\nexit 3\n'), 'b/bin/drain': exe('#!/bin/sh\necho soon\n') });
    const outcome = await f.call('drain', ['shutdown']);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /2 of 2 drain scripts failed/);
    assert.match(outcome.exception, /drain script of a failed: exit 3/);
    assert.match(outcome.exception, /drain script of b did not print a signed integer: 'soon'/);
  });

  it('status runs each script once with job_check_status and answers its number', async () => {
    await deploy({ 'a/bin/drain': exe('#!/bin/sh\n[ "$1" = job_check_status ] && echo 12\n') });
    assert.deepEqual(await f.call('drain', ['status']), { value: 12 });
  });

  it('status answers a negative number while any job still drains', async () => {
    await deploy({
      'a/bin/drain': exe('#!/bin/sh\necho 12\n'),
      'b/bin/drain': exe('#!/bin/sh\necho -4\n'),
    });
    assert.deepEqual(await f.call('drain', ['status']), { value: -4 });
  });

  it('answers 0 at once when no job has a drain script', async () => {
    await deploy({ 'a/monit': '' });
    assert.deepEqual(await f.call('drain', ['shutdown']), { value: 0 });
    assert.deepEqual(waits, []);
  });
});
