// Package compilation and links with REAL refit-cpi-local VMs and the real agent: a release
// whose packages form a diamond (a ← b, a ← c, b + c ← d) compiled with `workers: 2` and
// `reuse_compilation_vms: true` (b and c compile together once a is done, d after both; two
// compilation VMs in all, none left afterwards), and a `web` job that consumes a link the `db`
// instance group provides: the template rendered on the web VM names the db instance's address
// and the link property.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  eventLines,
  loopJob,
  oneAzCloudConfig,
  skipUnlessRoot,
  VmLab,
  type VmLine,
} from './support/vm-lab.ts';

const OCTET = 76;

function release() {
  const db = loopJob({ name: 'db', marker: 'refit-compilation-db' });
  const web = loopJob({ name: 'web', marker: 'refit-compilation-web' });
  const pkg = (name: string, dependencies: string[] = []) => ({
    name,
    dependencies,
    files: { [`${name}.txt`]: `${name}\n` },
    packaging: `set -e\ncp ${name}.txt "\${BOSH_INSTALL_TARGET}/"\n${dependencies
      .map((d) => `cat /var/vcap/packages/${d}/${d}.txt >> "\${BOSH_INSTALL_TARGET}/${name}.txt"\n`)
      .join('')}`,
  });
  return buildRelease({
    name: 'app',
    version: '1',
    jobs: [
      {
        ...db,
        properties: { port: { default: 5432 } },
        provides: [{ name: 'conn', type: 'db-conn', properties: ['port'] }],
      },
      {
        ...web,
        packages: ['d'],
        templates: {
          ...web.templates,
          'db.yml.erb':
            "<% link('conn').instances.each do |i| -%>\ndb: <%= i.name %>/<%= i.index %> <%= i.address %>\n<% end -%>\nport: <%= link('conn').p('port') %>\n",
        },
        destinations: { ...web.destinations, 'db.yml.erb': 'config/db.yml' },
        consumes: [{ name: 'conn', type: 'db-conn' }],
      },
    ],
    packages: [pkg('a'), pkg('b', ['a']), pkg('c', ['a']), pkg('d', ['b', 'c'])],
  });
}

const manifest = stringify({
  name: 'dep',
  releases: [{ name: 'app', version: 'latest' }],
  stemcells: [{ alias: 'default', os: 'refit-minimal', version: '1' }],
  update: { canaries: 1, max_in_flight: 1, canary_watch_time: '1000-10000', update_watch_time: '1000-10000' },
  instance_groups: ['db', 'web'].map((name) => ({
    name,
    azs: ['z1'],
    instances: 1,
    jobs: [{ name, release: 'app', ...(name === 'db' ? { properties: { port: 6543 } } : {}) }],
    vm_type: 'default',
    stemcell: 'default',
    networks: [{ name: 'default' }],
  })),
});

/** Every file called `name` under `dir` (recursively). */
async function findFiles(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name === name).map((e) => join(e.parentPath, e.name));
}

describe(
  'package compilation with workers and reused VMs, and links, on real VMs',
  { skip: skipUnlessRoot },
  () => {
    let lab: VmLab | undefined;
    const need = () => lab ?? assert.fail('the director did not start');

    before(async () => {
      lab = await VmLab.start('deploy-compilation');
      const stemcell = await buildStemcell(lab.work, '1');
      await lab.upload('/stemcells', stemcell.stemcell);
      await lab.upload('/releases', (await release()).tarball);
      await lab.updateCloudConfig({
        ...oneAzCloudConfig(OCTET),
        compilation: {
          workers: 2,
          reuse_compilation_vms: true,
          az: 'z1',
          vm_type: 'default',
          network: 'default',
        },
      });
    });

    after(async () => {
      await lab?.stop(['dep']);
    });

    it('compiles in dependency order, two at once on two reused VMs, and renders the link', async () => {
      const { task, events, cpi } = await need().deploy(manifest, '', 400_000);
      assert.equal(task.state, 'done', events);

      const compiling = eventLines(events).filter((e) => e.stage === 'Compiling packages');
      const order = compiling.map((e) => `${e.state} ${(e.task ?? '').split('/')[0] ?? ''}`);
      const at = (line: string) => {
        const i = order.indexOf(line);
        assert.ok(i >= 0, `${line} in ${order.join(', ')}`);
        return i;
      };
      assert.equal(compiling.filter((e) => e.state === 'finished').length, 4, order.join(', '));
      assert.ok(at('finished a') < at('started b') && at('finished a') < at('started c'));
      assert.ok(at('finished b') < at('started d') && at('finished c') < at('started d'));
      // Two workers: b and c both start before either finishes.
      assert.ok(
        Math.max(at('started b'), at('started c')) < Math.min(at('finished b'), at('finished c')),
        order.join(', '),
      );

      const creates = cpi.split('\n').filter((l) => l.includes('"method":"create_vm"')).length;
      assert.equal(creates, 2 + 2, 'two compilation VMs (reused for a and d), then the two instances');
      assert.equal((await need().hostVms()).length, 2, 'no compilation VM is left');

      const vms = (await need().vms('dep')) as (VmLine & { job_name: string })[];
      const dbIp = vms.find((v) => v.job_name === 'db')?.ips[0];
      const web = vms.find((v) => v.job_name === 'web');
      assert.ok(dbIp !== undefined && web !== undefined, JSON.stringify(vms));
      const files = await findFiles(join(need().cpiState, 'vms', web.vm_cid, 'ephemeral', 'jobs'), 'db.yml');
      assert.equal(files.length, 1, 'the web VM has the rendered db.yml');
      assert.equal(await readFile(files[0] ?? '', 'utf8'), `db: db/0 ${dbIp}\nport: 6543\n`);
      // d was compiled with b and c (and through them a) installed: its file has theirs appended.
      const d = await findFiles(join(need().cpiState, 'vms', web.vm_cid, 'ephemeral', 'packages'), 'd.txt');
      assert.equal(d.length, 1);
      assert.equal(await readFile(d[0] ?? '', 'utf8'), 'd\nb\na\nc\na\n');
    });
  },
);
