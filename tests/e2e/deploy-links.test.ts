// BOSH links within a deployment, end to end through the real refit-director with the test CPI:
// a release whose `web` job consumes a `postgres` link that the `postgres` job of another
// instance group provides. `deploy --dry-run` renders every instance's templates into the
// rendered templates archive (a blob in the director's blobstore) without touching a VM; the
// test reads `web/config/db.yml` back from that archive. Ambiguous and missing links fail the
// deploy with BOSH's message before any VM exists.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { stringify } from 'yaml';
import type { DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import type { CliRun, RefitCli } from './support/refit-cli.ts';
import { startTestCpiDirector, writeTestStemcell } from './support/test-cpi-director.ts';

const cloudConfig = {
  azs: [{ name: 'z1' }, { name: 'z2' }],
  vm_types: [{ name: 'default' }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [
        { range: '127.0.62.0/24', gateway: '127.0.62.1', az: 'z1' },
        { range: '127.0.63.0/24', gateway: '127.0.63.1', az: 'z2' },
      ],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

const dbTemplate = [
  "<% link('db').instances.each do |i| -%>",
  'db: <%= i.name %>/<%= i.index %> <%= i.id %> <%= i.address %> <%= i.az %> <%= i.bootstrap %>',
  '<% end -%>',
  "port: <%= link('db').p('port') %>",
  "tls: <%= link('db').p('tls.enabled') %>",
  "address: <%= link('db').address %>",
  "<% if_link('cache') do |c| %>cache: <%= c.instances.size %><% end.else do %>cache: none<% end %>",
  '',
].join('\n');

function group(name: string, job: Record<string, unknown>, instances: number, azs = ['z1', 'z2']) {
  return {
    name,
    azs,
    instances,
    jobs: [{ release: 'shop', ...job }],
    vm_type: 'default',
    stemcell: 'default',
    networks: [{ name: 'default' }],
  };
}

function manifest(groups: readonly Record<string, unknown>[]): string {
  return stringify({
    name: 'shop',
    releases: [{ name: 'shop', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'ubuntu-jammy', version: '1.23' }],
    update: { canaries: 1, max_in_flight: 1, canary_watch_time: 1000, update_watch_time: 1000 },
    instance_groups: groups,
  });
}

/** Every file of every gzipped tar blob in the blobstore whose entries include `wanted`. */
async function archivesContaining(blobstore: string, wanted: string): Promise<Map<string, string>[]> {
  const found: Map<string, string>[] = [];
  for (const dir of await readdir(blobstore)) {
    if (dir.startsWith('.')) continue;
    for (const blob of await readdir(join(blobstore, dir))) {
      const bytes = await readFile(join(blobstore, dir, blob));
      if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) continue;
      const files = await untar(gunzipSync(bytes));
      if (files.has(wanted)) found.push(files);
    }
  }
  return found;
}

async function untar(bytes: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((ok, fail) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.on('error', fail);
    });
    extract.on('finish', () => ok());
    extract.on('error', fail);
  });
  Readable.from([bytes]).pipe(extract);
  await done;
  return files;
}

describe('BOSH links within a deployment (refit-director, test CPI)', { timeout: 240_000 }, () => {
  let work: string;
  let director: DirectorProcess;
  let cli: RefitCli;

  const refit = (argv: readonly string[]) => cli.run(argv);

  async function dryRun(groups: readonly Record<string, unknown>[]): Promise<CliRun> {
    const path = join(work, `shop-${Math.random().toString(36).slice(2)}.yml`);
    await writeFile(path, manifest(groups));
    return refit(['-n', '-d', 'shop', 'deploy', path, '--dry-run']);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-deploy-links-'));
    ({ director, cli } = await startTestCpiDirector(work));
    const stemcell = join(work, 'stemcell.tgz');
    await writeTestStemcell(stemcell);
    const release = join(work, 'shop.tgz');
    const built = await buildRelease({
      name: 'shop',
      version: '1',
      jobs: [
        {
          name: 'postgres',
          templates: { 'pg.conf.erb': 'port = <%= p("port") %>\n' },
          destinations: { 'pg.conf.erb': 'config/pg.conf' },
          properties: { port: { default: 5432 }, 'tls.enabled': { default: false } },
          provides: [{ name: 'db', type: 'postgres', properties: ['port', 'tls.enabled'] }],
        },
        {
          name: 'web',
          templates: { 'db.yml.erb': dbTemplate },
          destinations: { 'db.yml.erb': 'config/db.yml' },
          consumes: [
            { name: 'db', type: 'postgres' },
            { name: 'cache', type: 'redis', optional: true },
          ],
        },
      ],
    });
    await writeFile(release, built.tarball);
    const cc = join(work, 'cc.yml');
    await writeFile(cc, stringify(cloudConfig));
    for (const argv of [
      ['upload-stemcell', stemcell],
      ['upload-release', release],
      ['-n', 'update-cloud-config', cc],
    ]) {
      const result = await refit(argv);
      assert.equal(result.code, 0, `${argv.join(' ')}: ${result.stdout}${result.stderr}`);
    }
  });

  after(async () => {
    await director?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('renders the consumer with the provider group’s instances and link properties', async () => {
    const run = await dryRun([
      group('db', { name: 'postgres', properties: { port: 6543 } }, 2),
      group('web', { name: 'web' }, 1, ['z1']),
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const archives = await archivesContaining(join(work, 'director', 'blobstore'), 'web/config/db.yml');
    assert.equal(archives.length, 1, 'one web instance, one rendered archive');
    const rendered = archives[0]?.get('web/config/db.yml') ?? '';
    const lines = rendered.split('\n');
    assert.match(lines[0] ?? '', /^db: db\/0 [0-9a-f-]{36} 127\.0\.62\.\d+ z1 true$/);
    assert.match(lines[1] ?? '', /^db: db\/1 [0-9a-f-]{36} 127\.0\.63\.\d+ z2 false$/);
    assert.deepEqual(lines.slice(2), [
      'port: 6543',
      'tls: false',
      `address: ${(lines[0] ?? '').split(' ')[3] ?? '?'}`,
      'cache: none',
      '',
    ]);
  });

  it('an explicit from: picks one of two providers renamed with as:', async () => {
    const run = await dryRun([
      group('db-a', { name: 'postgres', properties: { port: 1111 }, provides: { db: { as: 'main' } } }, 1),
      group('db-b', { name: 'postgres', properties: { port: 2222 }, provides: { db: { as: 'spare' } } }, 1),
      group('web', { name: 'web', consumes: { db: { from: 'spare' } } }, 1, ['z2']),
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const archives = await archivesContaining(join(work, 'director', 'blobstore'), 'web/config/db.yml');
    const spare = archives.filter((files) => files.get('web/config/db.yml')?.includes('port: 2222'));
    assert.equal(spare.length, 1);
    assert.match(spare[0]?.get('web/config/db.yml') ?? '', /^db: db-b\/0 /);
  });

  it('refuses an ambiguous link and a missing one with BOSH’s message, creating no VM', async () => {
    const ambiguous = await dryRun([
      group('db-a', { name: 'postgres' }, 1),
      group('db-b', { name: 'postgres' }, 1),
      group('web', { name: 'web' }, 1),
    ]);
    assert.equal(ambiguous.code, 1, ambiguous.stdout);
    const output = ambiguous.stdout + ambiguous.stderr;
    assert.match(output, /Failed to resolve links from deployment 'shop'\. See errors below:/);
    assert.match(
      output,
      /Failed to resolve link 'db' with type 'postgres' from job 'web' in instance group 'web'\. Multiple link providers found:/,
    );
    assert.match(
      output,
      /Link provider 'db' from job 'postgres' in instance group 'db-a' in deployment 'shop'/,
    );
    assert.match(
      output,
      /Link provider 'db' from job 'postgres' in instance group 'db-b' in deployment 'shop'/,
    );

    const missing = await dryRun([group('web', { name: 'web' }, 1)]);
    assert.equal(missing.code, 1, missing.stdout);
    assert.match(missing.stdout + missing.stderr, /- No link providers found/);

    const vms = await readdir(join(work, 'cpi-state', 'vms')).catch(() => []);
    assert.deepEqual(vms, []);
  });
});
