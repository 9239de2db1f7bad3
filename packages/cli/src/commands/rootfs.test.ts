import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rootfsTable } from './rootfs.ts';

describe('refit rootfs table', () => {
  it("shows the signer's key fingerprint, and '-' for an unsigned rootfs", () => {
    const base = { name: 'r', operatingSystem: 'ubuntu-jammy', sha256: 'ab', size: 10 };
    const table = rootfsTable([
      { ...base, version: '1.2', signedBy: 'f'.repeat(64) },
      { ...base, version: '1.1', signedBy: '' },
    ]);
    assert.equal(table.header.at(-1), 'Signed By');
    assert.deepEqual(
      table.rows.map((row) => row.at(-1)?.text),
      ['f'.repeat(64), '-'],
    );
  });
});
