import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { basicAuthUser, loadOrCreateCredentials } from './credentials.ts';

const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('credentials', () => {
  it('accepts exactly the configured client and secret', () => {
    const credentials = { client: 'admin', client_secret: 'pa:ss' };
    assert.equal(basicAuthUser(header('admin:pa:ss'), credentials), 'admin');
    assert.equal(basicAuthUser(header('admin:pa:s'), credentials), null);
    assert.equal(basicAuthUser(header('Admin:pa:ss'), credentials), null);
    assert.equal(basicAuthUser(header('adminpa:ss'), credentials), null);
    assert.equal(basicAuthUser(undefined, credentials), null);
    assert.equal(basicAuthUser('Bearer x', credentials), null);
    assert.equal(
      basicAuthUser(`basic ${Buffer.from('admin:pa:ss').toString('base64')}`, credentials),
      'admin',
    );
  });

  it('makes credentials.json once (mode 0600) and reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-creds-'));
    try {
      const made = await loadOrCreateCredentials(dir);
      assert.equal(made.client, 'admin');
      assert.ok(made.client_secret.length >= 24);
      assert.equal((await stat(join(dir, 'credentials.json'))).mode & 0o777, 0o600);
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')), made);
      assert.deepEqual(await loadOrCreateCredentials(dir), made);
      assert.deepEqual(await readdir(dir), ['credentials.json'], 'written aside, nothing left over');
      await writeFile(join(dir, 'credentials.json'), '{"client":""}');
      await assert.rejects(loadOrCreateCredentials(dir), /not a valid credentials file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
