import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MultiDigest, strongestDigest } from './digest.ts';

describe('MultiDigest', () => {
  it('reads a bare sha1 as sha1', () => {
    const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    assert.deepEqual(MultiDigest.parse(sha1), [{ algorithm: 'sha1', hex: sha1 }]);
  });
  it('picks the strongest algorithm of a multi-digest', () => {
    const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const parsed = MultiDigest.parse(`sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709;sha256:${sha256}`);
    assert.deepEqual(strongestDigest(parsed), { algorithm: 'sha256', hex: sha256 });
  });
  it('refuses unknown algorithms and wrong lengths with a message saying which', () => {
    const md5 = MultiDigest.safeParse('md5:abc');
    assert.equal(md5.success, false);
    assert.match(md5.error?.issues[0]?.message ?? '', /unknown digest algorithm 'md5'/);
    const short = MultiDigest.safeParse('sha256:abcd');
    assert.match(short.error?.issues[0]?.message ?? '', /not a valid sha256 digest/);
  });
});
