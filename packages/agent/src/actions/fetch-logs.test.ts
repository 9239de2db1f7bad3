import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractTgz } from '../archive/tgz.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('fetch_logs', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('tars /var/vcap/sys/log, uploads it and answers its id and sha1', async () => {
    await mkdir(join(f.ctx.paths.sysLog, 'web'), { recursive: true });
    await writeFile(join(f.ctx.paths.sysLog, 'web/web.stdout.log'), 'line 1\n');
    const outcome = await f.call('fetch_logs', ['job', []]);
    assert.ok('value' in outcome);
    const { blobstore_id: id, sha1 } = outcome.value as { blobstore_id: string; sha1: string };
    const bytes = await readFile(join(f.blobs, id));
    assert.equal(sha1, createHash('sha1').update(bytes).digest('hex'));
    const out = join(f.dir, 'logs');
    await extractTgz(join(f.blobs, id), out);
    assert.equal(await readFile(join(out, 'web/web.stdout.log'), 'utf8'), 'line 1\n');
  });

  it('keeps only the files a filter matches', async () => {
    await mkdir(join(f.ctx.paths.sysLog, 'db'), { recursive: true });
    await writeFile(join(f.ctx.paths.sysLog, 'db/db.stderr.log'), 'err\n');
    await writeFile(join(f.ctx.paths.sysLog, 'db/core.dump'), 'big');
    const outcome = await f.call('fetch_logs', ['job', ['db/*.log']]);
    assert.ok('value' in outcome);
    const { blobstore_id: id } = outcome.value as { blobstore_id: string };
    const out = join(f.dir, 'filtered');
    await extractTgz(join(f.blobs, id), out);
    assert.equal(await readFile(join(out, 'db/db.stderr.log'), 'utf8'), 'err\n');
    await assert.rejects(readFile(join(out, 'db/core.dump')));
    await assert.rejects(readFile(join(out, 'web/web.stdout.log')));
  });
});
