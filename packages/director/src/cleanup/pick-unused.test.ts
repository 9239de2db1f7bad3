import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickCompiledPackages, pickReleases, pickVersioned, VERSIONS_KEPT } from './pick-unused.ts';

const sc = (name: string, version: string, deployments: string[] = [], heldBy: string[] = []) => ({
  name,
  version,
  deployments,
  heldBy,
});

describe('pickReleases', () => {
  const release = (name: string, versions: [string, boolean][]) => ({
    name,
    versions: versions.map(([version, deployed]) => ({ version, deployed })),
  });

  it('keeps the two newest unused versions of each name and every deployed one', () => {
    const picked = pickReleases(
      [
        release('web', [
          ['10', false],
          ['9', false],
          ['2', true],
          ['1', false],
          ['11', false],
        ]),
        release('db', [['1', false]]),
      ],
      VERSIONS_KEPT,
    );
    assert.deepEqual(picked, [{ name: 'web', versions: ['1', '9'] }]);
  });

  it('with keep 0 (--all) picks every unused version, oldest first, in version order', () => {
    const picked = pickReleases(
      [
        release('web', [
          ['0+dev.10', false],
          ['0+dev.9', false],
          ['0+dev.2', true],
        ]),
      ],
      0,
    );
    assert.deepEqual(picked, [{ name: 'web', versions: ['0+dev.9', '0+dev.10'] }]);
  });

  it('picks nothing when every version is deployed', () => {
    assert.deepEqual(pickReleases([release('web', [['1', true]])], 0), []);
  });
});

describe('pickVersioned', () => {
  it('keeps the used version and the two newest unused ones per name', () => {
    const picked = pickVersioned(
      [
        sc('ubuntu', '1.2'),
        sc('ubuntu', '1.10'),
        sc('ubuntu', '1.3', ['web']),
        sc('ubuntu', '1.1'),
        sc('other', '7'),
      ],
      VERSIONS_KEPT,
    );
    assert.deepEqual(
      picked.map((s) => `${s.name}/${s.version}`),
      ['ubuntu/1.1'],
    );
  });

  it('with keep 0 picks every unused version, by name then oldest first', () => {
    const picked = pickVersioned([sc('b', '2'), sc('b', '1', ['d']), sc('a', '3'), sc('a', '1.5')], 0);
    assert.deepEqual(
      picked.map((s) => `${s.name}/${s.version}`),
      ['a/1.5', 'a/3', 'b/2'],
    );
  });

  it('treats one name/version held anywhere (a CPI copy in use, a reload reservation) as used', () => {
    const rows = [
      { ...sc('s', '1'), cpi: 'a' },
      { ...sc('s', '1', ['web']), cpi: 'b' },
      { ...sc('s', '2'), cpi: 'a' },
      { ...sc('s', '2'), cpi: 'b' },
      sc('r', '1', [], ['task:7']),
    ];
    const picked = pickVersioned(rows, 0);
    assert.deepEqual(
      picked.map((s) => `${s.name}/${s.version}`),
      ['s/2', 's/2'],
    );
  });
});

describe('pickCompiledPackages', () => {
  const cp = (id: number, os: string, version: string) => ({
    id,
    packageName: `p${id}`,
    stemcellOs: os,
    stemcellVersion: version,
  });
  const stemcells = [
    { id: 1, operatingSystem: 'ubuntu', version: '1.5' },
    { id: 2, operatingSystem: 'ubuntu', version: '2.1' },
  ];

  it('picks packages no remaining stemcell of the same OS and major line could use', () => {
    const packages = [
      cp(10, 'ubuntu', '1.2'),
      cp(11, 'ubuntu', '2.0'),
      cp(12, 'ubuntu', '3.0'),
      cp(13, 'alpine', '1.5'),
    ];
    assert.deepEqual(
      pickCompiledPackages(packages, stemcells, new Set()).map((p) => p.id),
      [12, 13],
    );
  });

  it('counts the stemcells being deleted as gone', () => {
    const packages = [cp(10, 'ubuntu', '1.2'), cp(11, 'ubuntu', '2.0')];
    assert.deepEqual(
      pickCompiledPackages(packages, stemcells, new Set([1])).map((p) => p.id),
      [10],
    );
  });
});
