import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentFixture, applySpec, type AgentFixture } from '../testing/fixture.ts';

describe('prepare', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('downloads and unpacks jobs and packages without linking or storing the spec', async () => {
    const pkg = await f.blob('pkg', { 'bin/x': 'x' });
    const archive = await f.blob('rta', { 'web/monit': '' });
    const spec = applySpec({
      jobs: ['web'],
      archive: { blobstore_id: 'rta', sha1: archive.sha1 },
      packages: { x: { blobstore_id: 'pkg', sha1: pkg.sha1 } },
    });
    assert.deepEqual(await f.call('prepare', [spec]), { value: 'prepared' });
    const data = f.ctx.paths.dataDir;
    assert.equal(await readFile(join(data, 'packages/x/1.0/bin/x'), 'utf8'), 'x');
    assert.equal((await readdir(join(data, 'jobs/web'))).length, 1);
    assert.deepEqual(await readdir(f.ctx.paths.jobs), []);
    assert.deepEqual(await readdir(f.ctx.paths.packages), []);
    await assert.rejects(readFile(f.ctx.paths.specFile));
  });

  it('two prepares of the same spec at once both succeed', async () => {
    const pkg = await f.blob('pkg2', { 'bin/y': 'y' });
    const archive = await f.blob('rta2', { 'web/monit': '' });
    const spec = applySpec({
      jobs: ['web'],
      archive: { blobstore_id: 'rta2', sha1: archive.sha1 },
      packages: { y: { blobstore_id: 'pkg2', sha1: pkg.sha1 } },
      hash: 'hash-2',
    });
    const [a, b] = await Promise.all([f.call('prepare', [spec]), f.call('prepare', [spec])]);
    assert.deepEqual([a, b], [{ value: 'prepared' }, { value: 'prepared' }]);
    assert.equal(await readFile(join(f.ctx.paths.dataDir, 'packages/y/1.0/bin/y'), 'utf8'), 'y');
  });
});
