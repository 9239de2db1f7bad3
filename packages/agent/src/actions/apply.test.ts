import assert from 'node:assert/strict';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { agentFixture, applySpec, exe, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

describe('apply', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await agentFixture();
  });
  afterEach(() => f.close());

  it('installs packages and jobs from verified blobs, links them and persists the spec', async () => {
    const pkg = await f.blob('pkg-1', { 'bin/tool': exe('#!/bin/sh\necho tool\n') });
    const archive = await f.blob('rta-1', {
      'web/monit': 'check process web with pidfile /tmp/none.pid start program "/bin/true"\n',
      'web/bin/ctl': exe('#!/bin/sh\n'),
      'worker/config/w.yml': 'a: 1\n',
    });
    const spec = applySpec({
      jobs: ['web', 'worker'],
      archive: { blobstore_id: 'rta-1', sha1: `sha256:${archive.sha256}` },
      packages: { tool: { blobstore_id: 'pkg-1', sha1: pkg.sha1 } },
    });
    assert.equal(await f.run(apply, [spec]), 'applied');
    const vcap = join(f.base, 'var/vcap');
    assert.equal(await readFile(join(vcap, 'packages/tool/bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
    assert.match(await readlink(join(vcap, 'packages/tool')), /data\/packages\/tool\/1\.0$/);
    assert.equal(await readFile(join(vcap, 'jobs/worker/config/w.yml'), 'utf8'), 'a: 1\n');
    assert.match(await readFile(join(vcap, 'jobs/web/monit'), 'utf8'), /check process web/);
    assert.equal(
      await readFile(join(vcap, 'jobs/web/packages/tool/bin/tool'), 'utf8'),
      '#!/bin/sh\necho tool\n',
    );
    const stored = JSON.parse(await readFile(join(vcap, 'data/bosh/spec.json'), 'utf8')) as {
      configuration_hash: string;
    };
    assert.equal(stored.configuration_hash, 'hash-1');
    assert.equal(f.ctx.supervisor.processCount, 1);
  });

  it('refuses a blob whose digest does not match before unpacking anything', async () => {
    const archive = await f.blob('rta-2', { 'web/monit': '' });
    const spec = applySpec({
      jobs: ['web'],
      archive: { blobstore_id: 'rta-2', sha1: `sha1:${'0'.repeat(40)};sha256:${archive.sha256}` },
      packages: { tool: { blobstore_id: 'rta-2', sha1: `sha1:${archive.sha1};sha256:${'f'.repeat(64)}` } },
    });
    const outcome = await f.call('apply', [spec]);
    assert.ok('exception' in outcome);
    assert.match(outcome.exception, /sha256 digest mismatch/);
    const data = join(f.base, 'var/vcap/data');
    assert.deepEqual(await readdir(join(data, 'packages')).catch(() => []), []);
    assert.deepEqual(await readdir(join(data, 'tmp')).catch(() => []), []);
    assert.deepEqual(await readdir(join(f.base, 'var/vcap/packages')), []);
    await assert.rejects(readFile(join(f.base, 'var/vcap/data/bosh/spec.json')));
  });

  it('fails with the file and line of a monit syntax error and keeps the old spec', async () => {
    const archive = await f.blob('rta-3', {
      'web/monit':
        'check process web\n  with pidfile /x.pid\n  start program "/bin/true"\n  sometimes restart\n',
    });
    const spec = applySpec({ jobs: ['web'], archive: { blobstore_id: 'rta-3', sha1: archive.sha1 } });
    const outcome = await f.call('apply', [spec]);
    assert.ok('exception' in outcome);
    assert.match(
      outcome.exception,
      /var\/vcap\/jobs\/web\/monit:4: monit syntax error: unexpected 'sometimes'/,
    );
    await assert.rejects(readFile(join(f.base, 'var/vcap/data/bosh/spec.json')));
  });

  it('only stores a spec without configuration hash (the partial apply)', async () => {
    await writeFile(join(f.blobs, 'unused'), '');
    const partial = {
      deployment: 'd',
      job: { name: 'web' },
      index: 0,
      id: 'i-1',
      networks: { n: { ip: '127.0.0.5' } },
    };
    assert.equal(await f.run(apply, [partial]), 'applied');
    const stored = JSON.parse(await readFile(join(f.base, 'var/vcap/data/bosh/spec.json'), 'utf8')) as {
      networks: unknown;
    };
    assert.deepEqual(stored.networks, { n: { ip: '127.0.0.5' } });
    assert.deepEqual(await readdir(join(f.base, 'var/vcap/jobs')), []);
  });
});
