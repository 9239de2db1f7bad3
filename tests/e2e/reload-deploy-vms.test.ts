// OS reload through the director with REAL refit-cpi-local VMs, the real agent and the
// director's own nats-server: 3 instances with persistent data on stemcell 1.1; the IaaS
// stemcell 1.2 uploaded without its generic stemcell → `?strategy=reload` refused before any
// job stops, naming what to upload; the rootfs uploaded → the dry run says reload and the bytes
// each VM downloads; `POST /deployments?strategy=reload` keeps every CID, `vms` shows 1.2, the
// agents report 1.2 from the booted root, data byte-identical, canary first, no create_vm nor
// delete_vm in the task's CPI log (the job's package, compiled for 1.1, is reused: same major
// line). Then 1.3 through the manifest's `update.stemcell_strategy: reload` alone (what the stock
// bosh CLI sends). Then a major bump to 2.0: the dry run says packages compile first, and the
// reload compiles on a compilation VM (its create_vm/delete_vm) while every instance keeps its VM.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  eventLines,
  loopJob,
  oneAzCloudConfig,
  skipUnlessRoot,
  startedTasks,
  VmLab,
  webManifest,
  type BuiltStemcell,
} from './support/vm-lab.ts';

const yaml = { 'content-type': 'text/yaml' };

const manifest = (stemcell: string, update: Record<string, unknown> = {}) =>
  webManifest({ name: 'rdep', stemcell, instances: 3, update });

describe('deploy --strategy reload with real refit-cpi-local VMs', { skip: skipUnlessRoot }, () => {
  let lab: VmLab | undefined;
  let director: VmLab['director'];
  const built = new Map<string, BuiltStemcell>();
  const need = () => lab ?? assert.fail('the director did not start');
  const upload = (path: string, file: string) => need().upload(path, file);
  const deploy = (text: string, query = '') => need().deploy(text, query);
  const vms = () => need().vms('rdep');
  const cids = () => need().cids('rdep');
  const hostVms = () => need().hostVms();
  const diskData = () => need().diskData();
  const events = eventLines;
  const started = (text: string) => startedTasks(text);

  before(async () => {
    lab = await VmLab.start('reload-deploy-e2e');
    director = lab.director;
    for (const v of ['1.1', '1.2', '1.3', '2.0']) built.set(v, await buildStemcell(lab.work, v));
    await upload('/stemcells', built.get('1.1')!.stemcell);
    const release = await buildRelease({
      name: 'app',
      version: '1',
      jobs: [{ ...loopJob({ marker: 'refit-reload-web', withData: true }), packages: ['tool'] }],
      packages: [
        {
          name: 'tool',
          files: { 'tool.txt': 'a tool\n' },
          packaging: 'set -e\ncp tool.txt "${BOSH_INSTALL_TARGET}/"\n',
        },
      ],
    });
    await lab.upload('/releases', release.tarball);
    await lab.updateCloudConfig(oneAzCloudConfig(52));
    const first = await deploy(manifest('1.1'));
    assert.equal(first.task.state, 'done', first.events);
  });

  after(async () => {
    await lab?.stop(['rdep']);
  });

  it('refuses a reload whose generic stemcell is missing before any job stops, naming what to upload', async () => {
    await upload('/stemcells', built.get('1.2')!.stemcell);
    const before = await cids();
    const refused = await deploy(manifest('1.2'), '?strategy=reload');
    assert.equal(refused.task.state, 'error');
    assert.match(refused.events, /upload-rootfs refit-minimal\/1\.2/);
    assert.deepEqual(started(refused.events), [], 'no instance touched');
    assert.doesNotMatch(refused.events, /executing (pre-stop|drain)|stopping jobs/);
    assert.deepEqual(await cids(), before);
    assert.ok((await vms()).every((v) => v.job_state === 'running' && v.stemcell?.version === '1.1'));
  });

  it('dry run: reload rows with the bytes each VM downloads', async () => {
    await upload('/rootfs', built.get('1.2')!.rootfs);
    const size = (await readFile(built.get('1.2')!.rootfs)).length;
    const id = director.taskOf(
      await director.request('POST', '/deployments?dry_run=true&strategy=reload', {
        body: manifest('1.2'),
        headers: yaml,
      }),
    );
    assert.equal((await director.waitTask(id, 60_000)).state, 'done', await director.output(id, 'event'));
    const rows = (await director.output(id, 'result'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { strategy: string; download_bytes: number; reason: string });
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.strategy, 'reload', row.reason);
      assert.equal(row.download_bytes, size);
      assert.match(row.reason, /1\.1 → refit-e2e\/1\.2/);
    }
  });

  it('reloads every VM to 1.2 in place: same CIDs, data identical, canary first, no create_vm/delete_vm', async () => {
    const beforeCids = await cids();
    const data = await diskData();
    assert.equal(data.size, 3);
    const reload = await deploy(manifest('1.2'), '?strategy=reload');
    assert.equal(reload.task.state, 'done', reload.events);
    assert.deepEqual(await cids(), beforeCids);
    assert.deepEqual(await hostVms(), beforeCids);
    assert.deepEqual(await diskData(), data, 'persistent data byte-identical');
    const lines = await vms();
    for (const l of lines) {
      assert.equal(l.job_state, 'running');
      assert.equal(l.stemcell?.version, '1.2');
      assert.equal(l.booted_stemcell?.version, '1.2', 'the agent reports 1.2 from the booted root');
    }
    const order = started(reload.events);
    assert.equal(order.length, 3);
    assert.match(order[0] ?? '', /\(canary\)$/);
    assert.doesNotMatch(reload.cpi, /create_vm|delete_vm/);
    const statuses = events(reload.events).map((e) => e.data?.status ?? '');
    for (const s of [
      'staging rootfs 1.2',
      'executing drain',
      'rebooting',
      'waiting for agent',
      'mounting disk',
      'applying',
      'starting jobs',
    ]) {
      assert.ok(
        statuses.some((x) => x.startsWith(s)),
        `status ${s}`,
      );
    }
    assert.equal(
      (reload.debug.match(/downtime \d+ ms/g) ?? []).length,
      3,
      'downtime per instance in the debug log',
    );
    const again = await deploy(manifest('1.2'), '?strategy=reload');
    assert.equal(again.task.state, 'done');
    assert.deepEqual(started(again.events), [], 'the planner re-plans to nothing');
  });

  it('reloads to 1.3 through update.stemcell_strategy: reload in the manifest, no flag', async () => {
    await upload('/stemcells', built.get('1.3')!.stemcell);
    await upload('/rootfs', built.get('1.3')!.rootfs);
    const beforeCids = await cids();
    const data = await diskData();
    const reload = await deploy(manifest('1.3', { stemcell_strategy: 'reload' }));
    assert.equal(reload.task.state, 'done', reload.events);
    assert.deepEqual(await cids(), beforeCids);
    assert.deepEqual(await diskData(), data);
    assert.ok(
      (await vms()).every((l) => l.stemcell?.version === '1.3' && l.booted_stemcell?.version === '1.3'),
    );
    assert.doesNotMatch(reload.cpi, /create_vm|delete_vm/);
  });

  it('a major bump to 2.0 compiles on a compilation VM first; the instances still reload in place', async () => {
    await upload('/stemcells', built.get('2.0')!.stemcell);
    await upload('/rootfs', built.get('2.0')!.rootfs);
    const dry = await deploy(manifest('2.0'), '?dry_run=true&strategy=reload');
    assert.equal(dry.task.state, 'done', dry.events);
    const rows = (await director.output(dry.id, 'result'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { strategy: string; reason: string });
    assert.ok(rows.length === 3 && rows.every((r) => r.strategy === 'reload'));
    assert.ok(
      rows.every((r) => /compiled on compilation VMs first/.test(r.reason)),
      rows[0]?.reason,
    );
    const beforeCids = await cids();
    const data = await diskData();
    const reload = await deploy(manifest('2.0'), '?strategy=reload');
    assert.equal(reload.task.state, 'done', reload.events);
    assert.match(reload.events, /"stage":"Compiling packages"/);
    assert.equal((reload.cpi.match(/"method":"create_vm"/g) ?? []).length, 1, 'one compilation VM');
    assert.deepEqual(await cids(), beforeCids, 'every instance keeps its VM');
    assert.deepEqual(await hostVms(), beforeCids, 'the compilation VM is gone');
    assert.deepEqual(await diskData(), data);
    assert.ok((await vms()).every((l) => l.booted_stemcell?.version === '2.0'));
  });

  it('back to 1.3 with the reload strategy plans recreates (reload only moves forward) unless --allow-downgrade', async () => {
    const plan = async (query: string) => {
      const dry = await deploy(manifest('1.3'), query);
      assert.equal(dry.task.state, 'done', dry.events);
      const warned = dry.events.match(/stemcell downgrade 2\.0 → 1\.3: reload only moves forward/g) ?? [];
      assert.equal(warned.length, query.includes('allow_downgrade') ? 0 : 3, dry.events);
      return (await director.output(dry.id, 'result'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { strategy: string; reason: string });
    };
    const down = await plan('?dry_run=true&strategy=reload');
    assert.equal(down.length, 3);
    for (const row of down) {
      assert.equal(row.strategy, 'recreate', row.reason);
      assert.match(row.reason, /^stemcell downgrade 2\.0 → 1\.3: reload only moves forward/);
    }
    const forced = await plan('?dry_run=true&strategy=reload&allow_downgrade=true');
    assert.ok(
      forced.length === 3 &&
        forced.every((r) => r.strategy === 'reload' && /downgrade allowed/.test(r.reason)),
      JSON.stringify(forced),
    );
    assert.ok((await vms()).every((l) => l.booted_stemcell?.version === '2.0' && l.job_state === 'running'));
  });
});
