import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCompiledPackage, stemcellMajor, type CompiledPackageRecord } from './find-compiled-package.ts';

let nextId = 1;
function compiled(
  stemcellVersion: string,
  overrides: Partial<CompiledPackageRecord> = {},
): CompiledPackageRecord {
  const id = nextId++;
  return {
    id,
    packageName: 'nginx',
    fingerprint: 'fp-nginx',
    dependencyKey: '[["pcre","1"]]',
    stemcellOs: 'ubuntu-noble',
    stemcellVersion,
    build: 1,
    sha1: `sha-${id}`,
    blobstoreId: `blob-${id}`,
    ...overrides,
  };
}
const want = (stemcellVersion: string) => ({
  fingerprint: 'fp-nginx',
  dependencyKey: '[["pcre","1"]]',
  stemcellOs: 'ubuntu-noble',
  stemcellVersion,
});

describe('findCompiledPackage', () => {
  it('takes the exact stemcell version first', () => {
    const exact = compiled('1.1');
    assert.equal(findCompiledPackage([compiled('1.9'), exact, compiled('1.0')], want('1.1')), exact);
  });

  it('else the newest of the same OS and major line: 1.1 → 1.2 reuses, 1.x → 2.x does not', () => {
    const v11 = compiled('1.1');
    const v19 = compiled('1.9');
    const v110 = compiled('1.10');
    assert.equal(findCompiledPackage([v11], want('1.2')), v11);
    assert.equal(findCompiledPackage([v11, v110, v19], want('1.2')), v110);
    assert.equal(findCompiledPackage([v11, v19], want('2.0')), null);
    assert.equal(findCompiledPackage([compiled('10.1')], want('1.2')), null);
  });

  it('never crosses fingerprint, dependency key or OS', () => {
    assert.equal(findCompiledPackage([compiled('1.2', { fingerprint: 'other' })], want('1.2')), null);
    assert.equal(findCompiledPackage([compiled('1.2', { dependencyKey: '[]' })], want('1.2')), null);
    assert.equal(findCompiledPackage([compiled('1.2', { stemcellOs: 'ubuntu-jammy' })], want('1.2')), null);
    assert.equal(findCompiledPackage([], want('1.2')), null);
  });

  it('reads the major line of plain and dotted versions', () => {
    assert.equal(stemcellMajor('621.74'), '621');
    assert.equal(stemcellMajor('1'), '1');
    assert.equal(findCompiledPackage([compiled('1')], want('1.5'))?.stemcellVersion, '1');
  });
});
