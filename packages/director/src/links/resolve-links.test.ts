import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobManifest } from '@refit/protocol';
import { DeploymentInvalidLink } from './link-errors.ts';
import type { LinkGroupInput, LinkJobInput } from './link-types.ts';
import { resolveLinks } from './resolve-links.ts';

type LinkSpec = JobManifest['provides'][number];

function job(
  name: string,
  options: {
    provides?: LinkSpec[];
    consumes?: LinkSpec[];
    properties?: Record<string, unknown>;
    specProperties?: JobManifest['properties'];
    manifestConsumes?: Record<string, unknown>;
    manifestProvides?: Record<string, unknown>;
  } = {},
): LinkJobInput {
  return {
    name,
    spec: {
      provides: options.provides ?? [],
      consumes: options.consumes ?? [],
      properties: options.specProperties ?? {},
    },
    properties: options.properties ?? {},
    consumes: options.manifestConsumes ?? {},
    provides: options.manifestProvides ?? {},
  };
}

function group(name: string, jobs: LinkJobInput[], instances = 2, base = 10): LinkGroupInput {
  return {
    name,
    jobs,
    instances: Array.from({ length: instances }, (_, index) => ({
      id: `${name}-id-${index}`,
      index,
      az: index % 2 === 0 ? 'z1' : 'z2',
      bootstrap: index === 0,
      address: `127.0.0.${base + index}`,
      addresses: { default: `127.0.0.${base + index}`, other: `127.0.1.${base + index}` },
    })),
  };
}

const postgres = (options: Parameters<typeof job>[1] = {}) =>
  job('postgres', {
    provides: [{ name: 'db', type: 'postgres', properties: ['port', 'tls.enabled'] }],
    specProperties: { port: { default: 5432 }, 'tls.enabled': { default: false } },
    ...options,
  });
const web = (options: Parameters<typeof job>[1] = {}) =>
  job('web', { consumes: [{ name: 'db', type: 'postgres' }], ...options });

function resolveError(groups: LinkGroupInput[]): string {
  try {
    resolveLinks({ deployment: 'shop', groups });
  } catch (error) {
    assert.ok(error instanceof DeploymentInvalidLink, String(error));
    assert.equal(error.code, 190016);
    return error.message;
  }
  assert.fail('expected a link error');
}

describe('resolveLinks', () => {
  it('implicit: the one provider of the type; properties from the job, else spec defaults', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [group('db', [postgres({ properties: { port: 6432 } })], 2, 20), group('web', [web()])],
    });
    const db = links.get('web')?.get('web')?.['db'];
    assert.deepEqual(db, {
      instances: [
        { name: 'db', index: 0, id: 'db-id-0', az: 'z1', address: '127.0.0.20', bootstrap: true },
        { name: 'db', index: 1, id: 'db-id-1', az: 'z2', address: '127.0.0.21', bootstrap: false },
      ],
      properties: { port: 6432, tls: { enabled: false } },
      address: '127.0.0.20',
    });
    assert.equal(links.get('db'), undefined, 'the provider consumes nothing');
  });

  it('a property present but null in the manifest stays null (BOSH finds it)', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [group('db', [postgres({ properties: { port: null } })]), group('web', [web()])],
    });
    assert.deepEqual(links.get('web')?.get('web')?.['db']?.properties, {
      port: null,
      tls: { enabled: false },
    });
  });

  it('explicit from: picks the provider named by its as: among several of the type', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [
        group('db1', [postgres({ manifestProvides: { db: { as: 'primary' } } })], 1, 30),
        group('db2', [postgres({ manifestProvides: { db: { as: 'replica' } } })], 1, 40),
        group('web', [web({ manifestConsumes: { db: { from: 'replica' } } })]),
      ],
    });
    const db = links.get('web')?.get('web')?.['db'];
    assert.equal(db?.instances[0]?.name, 'db2');
    assert.equal(db?.address, '127.0.0.40');
  });

  it('explicit from: a deployment-qualified name uses its last part; network: picks that IP', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [
        group('db', [postgres()], 1, 50),
        group('web', [web({ manifestConsumes: { db: { from: 'shop.db', network: 'other' } } })]),
      ],
    });
    assert.equal(links.get('web')?.get('web')?.['db']?.instances[0]?.address, '127.0.1.50');
  });

  it('ambiguous implicit link: error names every provider', () => {
    const message = resolveError([
      group('db1', [postgres()]),
      group('db2', [postgres()]),
      group('web', [web()]),
    ]);
    assert.equal(
      message,
      [
        "Failed to resolve links from deployment 'shop'. See errors below:",
        "  - Failed to resolve link 'db' with type 'postgres' from job 'web' in instance group 'web'. Multiple link providers found:",
        "    - Link provider 'db' from job 'postgres' in instance group 'db1' in deployment 'shop'",
        "    - Link provider 'db' from job 'postgres' in instance group 'db2' in deployment 'shop'",
      ].join('\n'),
    );
  });

  it('missing required link: No link providers found (alias shown for from:)', () => {
    assert.equal(
      resolveError([group('web', [web()])]),
      "Failed to resolve links from deployment 'shop'. See errors below:\n" +
        "  - Failed to resolve link 'db' with type 'postgres' from job 'web' in instance group 'web'. Details below:\n" +
        '    - No link providers found',
    );
    assert.match(
      resolveError([
        group('db', [postgres()]),
        group('web', [web({ manifestConsumes: { db: { from: 'nope' } } })]),
      ]),
      /Failed to resolve link 'db' with alias 'nope' and type 'postgres' from job 'web' in instance group 'web'\. Details below:\n {4}- No link providers found$/,
    );
  });

  it('optional: no link without a provider; still an error when from: names a missing one', () => {
    const optionalWeb = (consumes?: Record<string, unknown>) =>
      job('web', {
        consumes: [{ name: 'db', type: 'postgres', optional: true }],
        ...(consumes ? { manifestConsumes: consumes } : {}),
      });
    const links = resolveLinks({ deployment: 'shop', groups: [group('web', [optionalWeb()])] });
    assert.equal(links.get('web'), undefined);
    assert.match(
      resolveError([group('web', [optionalWeb({ db: { from: 'gone' } })])]),
      /No link providers found/,
    );
  });

  it('consumes nil blanks an optional link even with a provider; a required one fails', () => {
    const optionalWeb = job('web', {
      consumes: [{ name: 'db', type: 'postgres', optional: true }],
      manifestConsumes: { db: 'nil' },
    });
    const links = resolveLinks({
      deployment: 'shop',
      groups: [group('db', [postgres()]), group('web', [optionalWeb])],
    });
    assert.equal(links.get('web'), undefined);
    assert.match(
      resolveError([group('db', [postgres()]), group('web', [web({ manifestConsumes: { db: null } })])]),
      /No link providers found/,
    );
  });

  it('provides nil makes a provider unconsumable, so the other one is implicit', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [
        group('db1', [postgres({ manifestProvides: { db: 'nil' } })], 1, 60),
        group('db2', [postgres()], 1, 70),
        group('web', [web()]),
      ],
    });
    assert.equal(links.get('web')?.get('web')?.['db']?.instances[0]?.name, 'db2');
  });

  it('a provider and its consumer in the same instance group', () => {
    const links = resolveLinks({ deployment: 'shop', groups: [group('all', [postgres(), web()], 3)] });
    assert.equal(links.get('all')?.get('web')?.['db']?.instances.length, 3);
  });

  it('manual links from the manifest', () => {
    const links = resolveLinks({
      deployment: 'shop',
      groups: [
        group('web', [
          web({
            manifestConsumes: {
              db: { instances: [{ address: 'db.example' }], properties: { port: 1 }, address: 'db.example' },
            },
          }),
        ]),
      ],
    });
    assert.deepEqual(links.get('web')?.get('web')?.['db'], {
      instances: [{ name: '', index: 0, id: '', az: null, address: 'db.example', bootstrap: true }],
      properties: { port: 1 },
      address: 'db.example',
    });
  });

  it('malformed manifest entries and undeclared link properties, all reported', () => {
    const message = resolveError([
      group('db', [
        job('postgres', {
          provides: [{ name: 'db', type: 'postgres', properties: ['undeclared'] }],
        }),
      ]),
      group('web', [
        web({ manifestConsumes: { db: { from: 'x', instances: [], name: 'db' } } }),
        job('api', {
          consumes: [{ name: 'db', type: 'postgres' }],
          manifestConsumes: { db: { deployment: 'elsewhere' } },
        }),
      ]),
    ]);
    assert.equal(
      message,
      [
        'Link property undeclared in template postgres is not defined in release spec',
        "Cannot specify both 'instances' and 'from' keys for link 'db' in job 'web' in instance group 'web'.",
        "Cannot specify 'name' or 'type' properties in the manifest for link 'db' in job 'web' in instance group 'web'. Please provide these keys in the release only.",
        "Link 'db' in job 'api' from instance group 'web' consumes from deployment 'elsewhere': cross-deployment links are not supported by Refit",
      ].join('\n'),
    );
  });

  it('several failing consumers are reported together', () => {
    const message = resolveError([
      group('web', [web(), job('api', { consumes: [{ name: 'cache', type: 'redis' }] })]),
    ]);
    assert.equal(message.split('\n  - ').length, 3);
    assert.match(message, /link 'db' with type 'postgres' from job 'web'/);
    assert.match(message, /link 'cache' with type 'redis' from job 'api'/);
  });
});
