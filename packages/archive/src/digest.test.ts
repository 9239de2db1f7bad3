import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { MultiDigest } from '@refit/protocol';
import { ArchiveErrorCode } from './archive-error.ts';
import { digestFile, DigestingStream, DigestMismatchError, hashStream, verifyMultiDigest } from './digest.ts';

const hex = (algorithm: string, data: string) => createHash(algorithm).update(data).digest('hex');
const content = 'the quick brown fox';

describe('digests', () => {
  it('hashStream computes every algorithm in one pass', async () => {
    const result = await hashStream(Readable.from([Buffer.from('the quick '), Buffer.from('brown fox')]), [
      'sha1',
      'sha256',
      'sha512',
    ]);
    assert.deepEqual(result, {
      size: content.length,
      digests: { sha1: hex('sha1', content), sha256: hex('sha256', content), sha512: hex('sha512', content) },
    });
  });

  it('digestFile reads a file once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-digest-'));
    try {
      await writeFile(join(dir, 'f'), content);
      const result = await digestFile(join(dir, 'f'), ['sha256']);
      assert.deepEqual(result, { size: content.length, digests: { sha256: hex('sha256', content) } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('DigestingStream hashes what passes through', async () => {
    const tap = new DigestingStream(['sha1', 'sha256']);
    const out: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk);
        done();
      },
    });
    await pipeline(Readable.from([Buffer.from(content)]), tap, sink);
    assert.equal(Buffer.concat(out).toString(), content);
    assert.deepEqual(tap.result(), {
      size: content.length,
      digests: { sha1: hex('sha1', content), sha256: hex('sha256', content) },
    });
  });

  it('verifyMultiDigest checks the strongest algorithm given', () => {
    const actual = { sha1: hex('sha1', content), sha256: hex('sha256', content) };
    verifyMultiDigest(actual, MultiDigest.parse(hex('sha1', content)));
    // sha1 wrong but sha256 right: sha256 is the one that counts.
    verifyMultiDigest(actual, MultiDigest.parse(`sha1:${'0'.repeat(40)};sha256:${hex('sha256', content)}`));
  });

  it('verifyMultiDigest names both digests on a mismatch', () => {
    const wrong = 'f'.repeat(64);
    const error = (() => {
      try {
        verifyMultiDigest({ sha256: hex('sha256', content) }, MultiDigest.parse(`sha256:${wrong}`));
        return null;
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof DigestMismatchError);
    assert.equal(error.code, ArchiveErrorCode.DigestMismatch);
    assert.ok(error.message.includes(`sha256:${wrong}`));
    assert.ok(error.message.includes(`sha256:${hex('sha256', content)}`));
  });

  it('verifyMultiDigest refuses when the needed algorithm was not computed', () => {
    assert.throws(
      () =>
        verifyMultiDigest(
          { sha1: hex('sha1', content) },
          MultiDigest.parse(`sha256:${hex('sha256', content)}`),
        ),
      DigestMismatchError,
    );
  });
});
