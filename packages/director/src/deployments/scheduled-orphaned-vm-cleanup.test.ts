import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { Cloud } from '../cpi-client/cloud.ts';
import { CpiCallError, CpiFailureKind } from '../cpi-client/cpi-call-error.ts';
import { listOrphanedVms } from '../cleanup/orphaned-vms.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import type { EventRecorder } from '../feature.ts';
import { DbIpReservationStore, ipReservationsMigration } from '../networking/index.ts';
import type { IpReservation } from '../planner/plan-types.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import type { EnqueueRequest, TaskContext } from '../tasks/task-context.ts';
import type { StoredVm } from '../updater/updater-ports.ts';
import { deploymentsMigration } from './006-deployments.ts';
import { leftoverVmsMigration } from './014-leftover-vms.ts';
import { orphanedVmsMigration } from './019-orphaned-vms.ts';
import { DeploymentStore } from './deployment-store.ts';
import {
  enqueueOrphanedVmCleanup,
  scheduledOrphanedVmCleanupTask,
  scheduleOrphanedVmCleanup,
} from './scheduled-orphaned-vm-cleanup.ts';

const vm = (cid: string): StoredVm => ({
  cid,
  agentId: `agent-${cid}`,
  stemcell: { name: 's', version: '1' },
  cloudProperties: {},
  env: {},
  networkSettings: {},
  createdAt: '2026-01-01T00:00:00Z',
});

const reservation = (ip: string): IpReservation => ({
  deployment: 'dep',
  instanceId: 'i-1',
  network: 'default',
  ip,
  type: 'dynamic',
});

/** delete_vm answers per cid: deleted, VMNotFound, or a CloudError. */
function cloud(outcome: Record<string, 'gone' | 'fail'> = {}): Cloud & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    name: 'test',
    deleted,
    info: () => Promise.reject(new Error('unused')),
    call(method, args) {
      const cid = String(args[0]);
      const what = outcome[cid];
      if (what !== undefined) {
        return Promise.reject(
          new CpiCallError(what, {
            kind: CpiFailureKind.CpiError,
            method,
            requestId: null,
            cpiErrorType: what === 'gone' ? CpiErrorType.VMNotFound : CpiErrorType.CloudError,
          }),
        );
      }
      deleted.push(`${method}:${cid}`);
      return Promise.resolve(null);
    },
  };
}

const ctx = (lines: string[]): TaskContext => ({
  taskId: 7,
  user: 'scheduler',
  deployment: null,
  signal: new AbortController().signal,
  events: new JsonEventLog((line) => lines.push(line)),
  debug: { write: () => undefined },
  cpi: { write: () => undefined },
  result: { write: () => undefined },
});

for (const backend of testBackends()) {
  describe(
    `scheduled orphaned VM cleanup (BOSH ScheduledOrphanedVMCleanup) on ${backend.name}`,
    { skip: backend.skip },
    () => {
      let database: TestDatabase;
      let store: DeploymentStore;
      const events: Parameters<EventRecorder['record']>[0][] = [];
      const recorder: EventRecorder = {
        record: (event) => {
          events.push(event);
          return Promise.resolve(String(events.length));
        },
      };
      before(async () => {
        database = await backend.create({
          migrations: [
            ipReservationsMigration,
            deploymentsMigration,
            leftoverVmsMigration,
            orphanedVmsMigration,
          ],
        });
        store = new DeploymentStore(database.db);
        await store.ensure('dep');
        await store.createInstance('dep', {
          id: 'i-1',
          group: 'web',
          index: 0,
          az: 'z1',
          desiredState: 'started',
          tags: {},
        } as unknown as Parameters<DeploymentStore['createInstance']>[1]);
      });
      after(() => database.cleanup());

      /** A finished swap: vm-new is i-1's, vm-old a leftover holding 10.0.0.5, orphaned when `orphan`. */
      async function swapped(old: string, fresh: string, orphan: boolean) {
        const state = store.stateStore('dep');
        await state.vmCreated('i-1', vm(old));
        await state.vmLeftover('i-1', vm(fresh));
        await state.vmSwapped('i-1', vm(old), vm(fresh), [reservation('10.0.0.5')]);
        if (orphan) await state.vmOrphaned(old);
      }

      it('deletes orphaned VMs only (not a replacement VM before its swap), releasing their addresses', async () => {
        const ips = new DbIpReservationStore(database.db);
        await ips.apply({ add: [reservation('10.0.0.5'), reservation('10.0.0.6')], release: [] });
        const queued: EnqueueRequest[] = [];
        const tasks = { enqueue: (r: EnqueueRequest) => Promise.resolve(queued.push(r)) };
        await swapped('vm-old', 'vm-new', false);
        // A replacement VM of a deploy in progress (a leftover, not orphaned).
        await store.stateStore('dep').vmLeftover('i-1', vm('vm-pending'));
        assert.equal(await enqueueOrphanedVmCleanup({ db: database.db, tasks }), null, 'no orphan: no work');

        await store.stateStore('dep').vmOrphaned('vm-old');
        const [listed] = (await listOrphanedVms(database.db)).filter((v) => v.cid === 'vm-old');
        assert.deepEqual([listed?.instanceName, listed?.az, listed?.ips], ['web/i-1', 'z1', ['10.0.0.5']]);
        assert.equal(await enqueueOrphanedVmCleanup({ db: database.db, tasks }), 1);
        assert.deepEqual(
          [queued[0]?.type, queued[0]?.description, queued[0]?.locks],
          [
            'scheduled_orphaned_vm_cleanup',
            'scheduled ScheduledOrphanedVMCleanup',
            ['lock:orphan_vm_cleanup'],
          ],
        );

        const fake = cloud();
        const task = scheduledOrphanedVmCleanupTask({ db: database.db, cloud: fake, events: recorder });
        const lines: string[] = [];
        const done = await task.run(ctx(lines), task.parseParams(queued[0]?.params));
        assert.equal(done, 'Deleted 1 orphaned vm(s). Failed to delete 0 vm(s).');
        assert.deepEqual(fake.deleted, ['delete_vm:vm-old']);
        assert.ok(lines.some((l) => l.includes('Deleting orphaned vms')));
        assert.deepEqual(
          (await ips.forDeployment('dep')).map((r) => r.ip),
          ['10.0.0.6'],
          "the orphan's address went with it",
        );
        assert.deepEqual(
          (await store.stateStore('dep').leftoverVms()).map((v) => v.cid),
          ['vm-pending'],
          "the deploy's replacement VM is left alone",
        );
        assert.deepEqual(
          events.map((e) => [e.action, e.objectType, e.objectName, e.deployment, e.error]),
          [['delete', 'vm', 'vm-old', 'dep', null]],
        );
        await store.stateStore('dep').leftoverVmDeleted('vm-pending');
      });

      it('a VM the IaaS no longer has counts as deleted; one that fails stays for the next run', async () => {
        events.length = 0;
        await swapped('vm-new', 'vm-a', true);
        await swapped('vm-a', 'vm-b', true);
        const fake = cloud({ 'vm-new': 'gone', 'vm-a': 'fail' });
        const task = scheduledOrphanedVmCleanupTask({ db: database.db, cloud: fake, events: recorder });
        const done = await task.run(ctx([]), {});
        assert.equal(done, 'Deleted 1 orphaned vm(s). Failed to delete 1 vm(s).');
        assert.deepEqual(
          (await listOrphanedVms(database.db)).map((v) => v.cid),
          ['vm-a'],
        );
        assert.deepEqual(events.map((e) => [e.objectName, e.error === null]).sort(), [
          ['vm-a', false],
          ['vm-new', true],
        ]);
      });

      it('the timer queues the task when there is work; interval 0 schedules nothing', async () => {
        let wake: () => void = () => undefined;
        const first = new Promise<void>((resolve) => (wake = resolve));
        const queued: EnqueueRequest[] = [];
        const tasks = {
          enqueue: (r: EnqueueRequest) => {
            queued.push(r);
            wake();
            return Promise.resolve(queued.length);
          },
        };
        const stop = scheduleOrphanedVmCleanup({ db: database.db, tasks }, { intervalMs: 10 });
        const timeout = AbortSignal.timeout(10_000);
        await Promise.race([
          first,
          new Promise((_, reject) => timeout.addEventListener('abort', () => reject(new Error('no tick')))),
        ]);
        stop();
        assert.equal(queued[0]?.type, 'scheduled_orphaned_vm_cleanup');
        assert.equal(scheduleOrphanedVmCleanup({ db: database.db, tasks }, { intervalMs: 0 })(), undefined);
      });
    },
  );
}
