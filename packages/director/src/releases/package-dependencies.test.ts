import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileOrder, resolvePackageDependencies } from './package-dependencies.ts';

describe('resolvePackageDependencies', () => {
  it('gives each package its transitive dependencies, dependencies first', () => {
    const resolved = resolvePackageDependencies([
      { name: 'app', dependencies: ['ruby'] },
      { name: 'ruby', dependencies: ['libyaml', 'openssl'] },
      { name: 'libyaml', dependencies: [] },
      { name: 'openssl', dependencies: ['libyaml'] },
    ]);
    assert.deepEqual(resolved.get('app'), ['libyaml', 'openssl', 'ruby']);
    assert.deepEqual(resolved.get('libyaml'), []);
  });

  it('refuses missing dependencies, cycles, self-dependencies and duplicates, naming the package', () => {
    assert.throws(() => resolvePackageDependencies([{ name: 'a', dependencies: ['zz'] }]), {
      message: "Package 'a' depends on missing package 'zz'",
    });
    assert.throws(
      () =>
        resolvePackageDependencies([
          { name: 'a', dependencies: ['b'] },
          { name: 'b', dependencies: ['c'] },
          { name: 'c', dependencies: ['a'] },
        ]),
      { message: "Package 'a' has a dependency cycle: a -> b -> c -> a" },
    );
    assert.throws(() => resolvePackageDependencies([{ name: 'a', dependencies: ['a'] }]), {
      message: "Package 'a' depends on itself",
    });
    assert.throws(
      () =>
        resolvePackageDependencies([
          { name: 'a', dependencies: [] },
          { name: 'a', dependencies: [] },
        ]),
      { message: "Package 'a' is listed more than once in release.MF" },
    );
  });

  it('orders a whole release for compilation', () => {
    assert.deepEqual(
      compileOrder([
        { name: 'app', dependencies: ['ruby'] },
        { name: 'ruby', dependencies: ['libyaml'] },
        { name: 'libyaml', dependencies: [] },
        { name: 'tool', dependencies: [] },
      ]),
      ['libyaml', 'ruby', 'app', 'tool'],
    );
  });
});
