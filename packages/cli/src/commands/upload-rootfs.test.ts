import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';
import { makeTarball } from '../testing/make-tarball.ts';

describe('refit upload-rootfs, rootfs, delete-rootfs', () => {
  let env: CliTestEnv;
  let tarball: string;
  before(async () => {
    env = await startCliTestEnv();
    const rootTar = Buffer.alloc(2048, 1);
    const sha256 = createHash('sha256').update(rootTar).digest('hex');
    tarball = join(env.home, 'rootfs.tgz');
    await makeTarball(tarball, [
      {
        name: 'rootfs.MF',
        content: `name: st\nversion: "2.1"\noperating_system: jammy\napi_version: 1\nroot_archive:\n  path: root.tar\n  sha256: ${sha256}\ninstall: install\n`,
      },
      { name: 'root.tar', content: rootTar },
      { name: 'install', content: '#!/bin/sh\n' },
    ]);
    env.server.route('POST /rootfs_uploads', json({ needed: true }));
    env.server.route('POST /rootfs', redirectToTask(21));
    serveFinishedTask(env.server, 21);
    env.server.route(
      'GET /rootfs',
      json([{ name: 'st', version: '2.1', operating_system: 'jammy', sha256: 'ab12', size: 1536 }]),
    );
    env.server.route('DELETE /rootfs/st/2.1', redirectToTask(22));
    serveFinishedTask(env.server, 22);
  });
  after(() => env.close());

  it('checks rootfs.MF locally, asks POST /rootfs_uploads, streams to POST /rootfs and follows', async () => {
    const run = await env.run(['upload-rootfs', tarball]);
    assert.equal(run.code, 0, run.stderr);
    const check = env.server.requests.find((r) => r.url === '/rootfs_uploads');
    assert.deepEqual(JSON.parse(check!.body.toString()), { rootfs: { name: 'st', version: '2.1' } });
    const upload = env.server.requests.find((r) => r.method === 'POST' && r.url === '/rootfs');
    assert.equal(upload?.headers['content-type'], 'application/x-compressed');
    assert.ok(env.requestLines().includes('GET /tasks/21'));
  });

  it('refuses a rootfs.MF with a bad digest before uploading', async () => {
    const bad = join(env.home, 'bad-rootfs.tgz');
    await makeTarball(bad, [
      {
        name: 'rootfs.MF',
        content:
          'name: st\nversion: 1\noperating_system: j\napi_version: 1\nroot_archive: {path: r, sha256: xyz}\ninstall: i\n',
      },
    ]);
    const run = await env.run(['upload-rootfs', bad]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Invalid 'rootfs\.MF' .*root_archive\.sha256/);
  });

  it('lists rootfs and deletes one', async () => {
    const list = await env.run(['--tty', 'rootfs']);
    assert.equal(
      list.stdout.split('\n').slice(2, 4).join('\n'),
      'Name  Version  OS     SHA256  Size     Signed By  \nst    2.1      jammy  ab12    1.5 KiB  -  ',
    );
    assert.equal((await env.run(['-n', 'delete-rootfs', 'st/2.1'])).code, 0);
    assert.ok(env.requestLines().includes('GET /tasks/22'));
  });
});
