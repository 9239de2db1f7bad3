import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReleaseVersion, rebaseVersion, sortVersionTexts } from './release-version.ts';

describe('release versions', () => {
  it('parses semi-semantic versions and refuses others', () => {
    assert.deepEqual(parseReleaseVersion('1.2-rc.1+dev.3'), {
      release: [1, 2],
      preRelease: ['rc', 1],
      postRelease: ['dev', 3],
      text: '1.2-rc.1+dev.3',
    });
    assert.equal(parseReleaseVersion('not a version!'), null);
    assert.equal(parseReleaseVersion(''), null);
  });

  it('sorts as BOSH does: numbers numerically, pre-release before release, post-release after', () => {
    assert.deepEqual(
      sortVersionTexts(['10', '9', '1.10', '1.9', '2-rc.1', '2', '2+dev.1', '2+dev.10', '2+dev.2']),
      ['1.9', '1.10', '2-rc.1', '2', '2+dev.1', '2+dev.2', '2+dev.10', '9', '10'],
    );
  });

  it('rebases a dev version after the newest of its line', () => {
    const v = parseReleaseVersion('7+dev.1')!;
    assert.equal(rebaseVersion(v, []), '7+dev.1');
    assert.equal(rebaseVersion(v, ['7+dev.1', '7+dev.4', '8+dev.9', '7']), '7+dev.5');
    assert.equal(rebaseVersion(parseReleaseVersion('3')!, ['3', '4']), '3');
  });
});
