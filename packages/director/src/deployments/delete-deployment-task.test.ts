// delete_deployment also deletes the VMs a killed deploy left behind (an unfinished
// create-swap-delete's leftover VM, compilation VMs), so a deleted deployment leaves nothing on
// the IaaS; with the updater's fake CPI and agents and a real database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallLog, FakeAgentClient, FakeCloud } from '@refit/testkit/updater-fakes/index.ts';
import type { Blobstore } from '../blobstore/blobstore.ts';
import { CompilationVmStore } from '../compilation/compilation-vm-store.ts';
import { coreMigration } from '../db/core-migration.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import { deploymentsFeature } from './index.ts';
import { deleteDeploymentTask } from './delete-deployment-task.ts';
import { DeploymentStore } from './deployment-store.ts';

for (const backend of testBackends()) {
  describe(`delete_deployment on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    before(async () => {
      const feature = deploymentsFeature({ agents: () => new FakeAgentClient(new CallLog()) });
      database = await backend.create({
        migrations: [coreMigration, stemcellsMigration, releasesMigration, ...feature.migrations],
      });
    });
    after(() => database.cleanup());

    it('deletes the leftover VMs of an interrupted deploy and the compilation VMs it recorded', async () => {
      const log = new CallLog();
      const cloud = new FakeCloud(log);
      const store = new DeploymentStore(database.db);
      await store.ensure('dep');
      await store.stateStore('dep').vmLeftover('i-1', { cid: 'vm-old', agentId: 'agent-old' });
      await new CompilationVmStore(database.db).add({
        cid: 'vm-compile',
        deployment: 'dep',
        agentId: 'agent-c',
        instanceId: 'compilation-1',
      });
      const deps = {
        db: database.db,
        tasks: {} as DirectorDeps['tasks'],
        blobstore: {} as Blobstore,
        cloud,
        events: new DbEventRecorder(database.db),
        stateDir: '/nonexistent',
        tmpDir: '/nonexistent',
        directorUuid: 'uuid',
        directorName: 'test',
      } satisfies DirectorDeps;
      const lines: string[] = [];
      const ctx: TaskContext = {
        taskId: 1,
        user: 'admin',
        deployment: 'dep',
        signal: new AbortController().signal,
        events: new JsonEventLog((line) => lines.push(line)),
        debug: { write: () => undefined },
        cpi: { write: () => undefined },
        result: { write: () => undefined },
      };
      const task = deleteDeploymentTask(deps, { agents: () => new FakeAgentClient(log) });
      await task.run(ctx, task.parseParams({ deployment: 'dep' }));

      const deleted = cloud.calls.filter((c) => c.method === 'delete_vm').map((c) => c.args[0]);
      assert.deepEqual(deleted.sort(), ['vm-compile', 'vm-old']);
      assert.deepEqual(await new CompilationVmStore(database.db).forDeployment('dep'), []);
      assert.deepEqual(await database.db.query('SELECT cid FROM leftover_vms'), []);
      assert.equal(await store.get('dep'), null);
      assert.ok(lines.some((l) => l.includes('Deleting leftover vms')));
    });
  });
}
