// OS reload failures through the director with REAL refit-cpi-local VMs: a rootfs whose bytes
// no longer match its digest is refused by the agents before any job stops; a v2 root whose agent
// never starts makes the VM fall back to v1 by itself (boot step, short commit deadline set in the
// generated cpi-local config) and the director fails the canary, stopping the rollout; with
// `update.reload_fallback: recreate` the same instance is recreated from the IaaS stemcell v2.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  loopJob,
  oneAzCloudConfig,
  sha256,
  skipUnlessRoot,
  startedTasks,
  VmLab,
  webManifest,
  type BuiltStemcell,
} from './support/vm-lab.ts';

const manifest = (stemcell: string, update: Record<string, unknown> = {}) =>
  webManifest({ name: 'fdep', stemcell, update });

describe('deploy --strategy reload failures with real refit-cpi-local VMs', { skip: skipUnlessRoot }, () => {
  let lab: VmLab | undefined;
  let broken: BuiltStemcell;
  const need = () => lab ?? assert.fail('the director did not start');
  const cids = () => need().cids('fdep');

  /** The director's blob file holding `content`. */
  const blobFile = async (content: Buffer): Promise<string> => {
    const want = sha256(content);
    const walk = async (dir: string): Promise<string | undefined> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          const found = await walk(path);
          if (found) return found;
        } else if (entry.isFile() && (await stat(path)).size === content.length) {
          if (sha256(await readFile(path)) === want) return path;
        }
      }
      return undefined;
    };
    const found = await walk(join(need().stateDir, 'blobstore'));
    assert.ok(found, 'the rootfs blob is in the director blobstore');
    return found;
  };

  before(async () => {
    lab = await VmLab.start('reload-failures-e2e');
    const brokenAgent = join(lab.work, 'broken-agent.mjs');
    await writeFile(brokenAgent, "console.error('this agent never starts'); process.exit(3);\n");
    const v11 = await buildStemcell(lab.work, '1.1');
    const v12 = await buildStemcell(lab.work, '1.2');
    broken = await buildStemcell(lab.work, '1.2', {
      dir: 'sc-1.2-broken',
      extra: ['--agent-entry', brokenAgent],
    });
    // A staged root not committed within 4 s of its first boot is abandoned.
    await lab.patchCpiConfig({ reload: { max_boot_attempts: 1, commit_deadline_ms: 4000 } });
    await lab.upload('/stemcells', v11.stemcell);
    await lab.upload('/stemcells', v12.stemcell);
    const release = await buildRelease({
      name: 'app',
      version: '1',
      jobs: [loopJob({ marker: 'refit-reload-web', withData: true })],
      packages: [],
    });
    await lab.upload('/releases', release.tarball);
    await lab.updateCloudConfig(oneAzCloudConfig(54));
    const first = await lab.deploy(manifest('1.1'));
    assert.equal(first.task.state, 'done', first.events);
  });

  after(async () => {
    await lab?.stop(['fdep']);
  });

  it('a rootfs whose bytes do not match its digest fails the canary before any job stops', async () => {
    await need().upload('/rootfs', broken.rootfs);
    const content = await readFile(broken.rootfs);
    const file = await blobFile(content);
    const bad = Buffer.from(content);
    bad[Math.floor(bad.length / 2)] = (bad[Math.floor(bad.length / 2)] ?? 0) ^ 0xff;
    await writeFile(file, bad);
    try {
      const before = await cids();
      const data = await need().diskData();
      const refused = await need().deploy(manifest('1.2'), '?strategy=reload');
      assert.equal(refused.task.state, 'error');
      assert.match(refused.events, /failed while staging rootfs/);
      assert.doesNotMatch(refused.events, /executing (pre-stop|drain)|stopping jobs|rebooting/);
      assert.equal(startedTasks(refused.events).length, 1, 'only the canary was touched');
      assert.deepEqual(await cids(), before);
      assert.deepEqual(await need().diskData(), data);
      assert.ok(
        (await need().vms('fdep')).every(
          (v) => v.job_state === 'running' && v.booted_stemcell?.version === '1.1',
        ),
      );
      assert.doesNotMatch(refused.cpi, /create_vm|delete_vm/);
    } finally {
      await writeFile(file, content);
    }
  });

  it('a v2 root whose agent never starts: the VM falls back to v1 by itself, the canary fails', async () => {
    const before = await cids();
    const data = await need().diskData();
    const failed = await need().deploy(manifest('1.2'), '?strategy=reload');
    assert.equal(failed.task.state, 'error');
    assert.match(failed.events, /failed while waiting for agent: .*(came back on|reports) stemcell 1\.1/);
    assert.equal(startedTasks(failed.events).length, 1, 'the rollout stopped at the canary');
    assert.deepEqual(await cids(), before, 'same VMs');
    assert.deepEqual(await need().diskData(), data, 'data intact');
    assert.ok(
      (await need().vms('fdep')).every(
        (v) => v.booted_stemcell?.version === '1.1' && v.stemcell?.version === '1.1',
      ),
    );
    assert.doesNotMatch(failed.cpi, /create_vm|delete_vm/);
  });

  it('with reload_fallback: recreate the failed instances are recreated from the IaaS stemcell 1.2', async () => {
    const before = await cids();
    const data = await need().diskData();
    const done = await need().deploy(manifest('1.2', { reload_fallback: 'recreate' }), '?strategy=reload');
    assert.equal(done.task.state, 'done', done.events);
    assert.match(done.events, /reload_fallback: recreate: recreating web\//);
    const after = await cids();
    for (const cid of before) assert.ok(!after.includes(cid), `${cid} was recreated`);
    assert.deepEqual(after, await need().hostVms());
    assert.deepEqual(
      [...(await need().diskData()).values()].sort(),
      [...data.values()].sort(),
      'data intact',
    );
    assert.ok(
      (await need().vms('fdep')).every(
        (v) =>
          v.job_state === 'running' && v.stemcell?.version === '1.2' && v.booted_stemcell?.version === '1.2',
      ),
    );
    assert.match(done.cpi, /create_vm/);
  });
});
