// The updater tells the agent allow_downgrade only for a reload the deploy allowed to go down.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDeployment } from '../../planner/plan-deployment.ts';
import type { CurrentInstance } from '../../planner/plan-types.ts';
import {
  compile,
  convergedState,
  manifestValue,
  sequentialIds,
} from '../../planner/planner-fixtures.test-support.ts';
import { updateDeployment } from '../update-deployment.ts';
import { harness, initialPlan, targetsFor } from '../updater-harness.test-support.ts';
import type { InstanceTarget } from '../updater-ports.ts';
import { ReloadingAgents } from './reload-agents.test-support.ts';

const onVersion =
  (version: string) =>
  (i: CurrentInstance): CurrentInstance => ({
    ...i,
    vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version } },
  });

/** VMs on `from`, the manifest on 1.2, `deploy --strategy reload [--allow-downgrade]`. */
async function deploy(from: string, allowDowngrade: boolean, rootSha256?: string) {
  const state = convergedState(initialPlan());
  const plan = planDeployment({
    deployment: compile(manifestValue()),
    current: { instances: state.instances.map(onVersion(from)), reservations: state.reservations },
    newId: sequentialIds('new'),
    options: { stemcellStrategy: 'reload', allowDowngrade },
    reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.2' }],
  });
  const h = harness();
  const agents = new ReloadingAgents(h.agents, h.log, h.clock);
  agents.bootIds = true;
  const targets = new Map<string, InstanceTarget>();
  for (const [id, t] of targetsFor(plan)) {
    targets.set(id, {
      ...t,
      reload: {
        stemcell: { name: 'refit-ubuntu-jammy', version: '1.2', operatingSystem: 'ubuntu-jammy' },
        blobstoreId: 'rootfs-blob',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 54_000_000,
        fallback: 'fail',
        bootTimeoutMs: 30_000,
        ...(rootSha256 !== undefined ? { rootSha256 } : {}),
      },
    });
  }
  await updateDeployment({ ...h.deps, agents }, plan, targets);
  return {
    plan,
    staging: h.log.entries.filter((e) => e.includes(':update_rootfs:')),
    options: agents.stagingOptions,
  };
}

describe('reload downgrade in the updater', () => {
  it('an allowed downgrade stages with {version, allow_downgrade: true}', async () => {
    const { plan, staging } = await deploy('1.3', true);
    assert.ok(plan.instanceGroups[0]!.instances.every((i) => i.stemcellStrategy?.downgrade !== undefined));
    assert.equal(staging.length, 3);
    assert.ok(
      staging.every((e) => e.endsWith(`sha256:${'b'.repeat(64)}@1.2:allow_downgrade`)),
      staging.join('\n'),
    );
  });

  it('an upgrade stages with {version} and never allow_downgrade, even when the flag is set', async () => {
    const { staging } = await deploy('1.1', true);
    assert.equal(staging.length, 3);
    assert.ok(
      staging.every((e) => e.endsWith('@1.2')),
      staging.join('\n'),
    );
  });

  it("a rollback passes root.tar's sha256 so a VM that kept that root fetches nothing", async () => {
    const root = 'e'.repeat(64);
    const { options } = await deploy('1.3', true, root);
    assert.equal(options.length, 3);
    assert.deepEqual(
      options,
      Array(3).fill({ version: '1.2', allow_downgrade: true, root_archive_sha256: root }),
    );
    const { options: unknown } = await deploy('1.3', true);
    assert.ok(
      unknown.every((o) => o !== undefined && !('root_archive_sha256' in o)),
      'not known: not sent',
    );
  });
});
