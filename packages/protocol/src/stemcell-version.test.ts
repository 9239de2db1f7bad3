import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareStemcellVersions, parseStemcellVersion, stemcellVersionMove } from './stemcell-version.ts';

/** Asserts a < b (and the reverse). */
function older(a: string, b: string): void {
  assert.equal(compareStemcellVersions(a, b), -1, `${a} < ${b}`);
  assert.equal(compareStemcellVersions(b, a), 1, `${b} > ${a}`);
}

describe('stemcell version order', () => {
  it('compares components as numbers, not text', () => {
    older('1.9', '1.10');
    older('621.5', '621.85');
    older('3586.99', '3586.100');
    older('1.2', '2');
    older('456', '3468.1');
    older('9', '10');
  });

  it('reads a missing component as zero and underscores as dots', () => {
    assert.equal(compareStemcellVersions('1.2', '1.2.0'), 0);
    assert.equal(compareStemcellVersions('1.02', '1.2'), 0);
    older('1.2', '1.2.1');
    assert.equal(compareStemcellVersions('1471_2', '1471.2'), 0);
    older('1471_2', '1471.10');
  });

  it('puts a pre-release before its release and a post-release after it', () => {
    older('1.2-rc1', '1.2');
    older('1.2-rc.1', '1.2-rc.2');
    older('1.2-rc.9', '1.2-rc.10');
    older('1.2-alpha', '1.2-beta');
    older('1.1', '1.2-rc1');
    older('1.2', '1.2+dev.1');
    older('1.2+dev.1', '1.2+dev.2');
    older('1.2-rc1+dev.5', '1.2');
  });

  it('compares text components as text, longer lists greater', () => {
    older('1.2.a', '1.2.b');
    older('1.2', '1.2.a');
    assert.equal(compareStemcellVersions('1.2-dev', '1.2-dev'), 0);
  });

  it('cannot order a number against text, nor what is not a version', () => {
    assert.equal(compareStemcellVersions('1.2', '1.x'), null);
    assert.equal(compareStemcellVersions('', '1'), null);
    assert.equal(compareStemcellVersions('1..2', '1.2'), null);
    assert.equal(compareStemcellVersions('1.2-rc-1', '1.2'), null);
    assert.equal(compareStemcellVersions('1.é', '1.2'), null);
    assert.equal(parseStemcellVersion('latest')?.release.length, 1);
    assert.equal(parseStemcellVersion('1.2+'), null);
  });

  it('names the move from the running version', () => {
    assert.equal(stemcellVersionMove('1.1', '1.2'), 'up');
    assert.equal(stemcellVersionMove('1.2', '1.2.0'), 'same');
    assert.equal(stemcellVersionMove('1.10', '1.9'), 'down');
    assert.equal(stemcellVersionMove('1.2', '1.2-rc1'), 'down');
    assert.equal(stemcellVersionMove('1.2', '1.x'), 'unordered');
  });

  it('orders numbers longer than a double holds exactly', () => {
    older('1.20231010123456789', '1.20231010123456790');
  });
});
