import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dependencyKey } from './dependency-key.ts';

const packages = [
  { name: 'app', version: '3', dependencies: ['ruby', 'libyaml'] },
  { name: 'ruby', version: '2.7', dependencies: ['libyaml', 'openssl'] },
  { name: 'libyaml', version: '0.2', dependencies: [] },
  { name: 'openssl', version: '1.1', dependencies: [] },
];

describe('dependencyKey (BOSH KeyGenerator)', () => {
  it('is [] for a package without dependencies', () => {
    assert.equal(dependencyKey('libyaml', packages), '[]');
  });

  it('lists direct dependencies sorted, each with its own sub-dependencies', () => {
    assert.equal(
      dependencyKey('app', packages),
      '[["libyaml","0.2"],["ruby","2.7",[["libyaml","0.2"],["openssl","1.1"]]]]',
    );
    assert.equal(dependencyKey('ruby', packages), '[["libyaml","0.2"],["openssl","1.1"]]');
  });

  it('changes when a dependency version changes', () => {
    const bumped = packages.map((p) => (p.name === 'openssl' ? { ...p, version: '3.0' } : p));
    assert.notEqual(dependencyKey('app', bumped), dependencyKey('app', packages));
  });

  it('refuses a package that is not in the release', () => {
    assert.throws(() => dependencyKey('ghost', packages), /package 'ghost' is not in the release/);
  });
});
