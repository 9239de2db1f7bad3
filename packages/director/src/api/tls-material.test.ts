import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadOrCreateTlsMaterial } from './tls-material.ts';

describe('TLS material', () => {
  it('is made once (keys 0600, written aside and renamed) and read back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-tls-'));
    try {
      const made = await loadOrCreateTlsMaterial(dir);
      assert.deepEqual((await readdir(dir)).sort(), ['ca.key', 'ca.pem', 'server.key', 'server.pem']);
      assert.equal((await stat(join(dir, 'server.key'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'ca.key'))).mode & 0o777, 0o600);
      assert.equal(await readFile(join(dir, 'ca.pem'), 'utf8'), made.caPem);
      assert.match(made.caPem, /^-----BEGIN CERTIFICATE-----/);
      assert.deepEqual(await loadOrCreateTlsMaterial(dir), made);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
