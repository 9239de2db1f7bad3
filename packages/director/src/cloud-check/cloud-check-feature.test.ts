import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CallLog } from '@refit/testkit/updater-fakes/index.ts';
import type { Blobstore } from '../blobstore/blobstore.ts';
import { createDirectorLog } from '../config/director-log.ts';
import { coreMigration } from '../db/core-migration.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { deploymentsMigration } from '../deployments/006-deployments.ts';
import { persistentDiskActiveMigration } from '../deployments/017-persistent-disk-active.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { orphanDisksMigration } from '../disks/015-orphan-disks.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps } from '../feature.ts';
import { ipReservationsMigration } from '../networking/index.ts';
import { StemcellStore } from '../stemcells/stemcell-store.ts';
import { finishedTask, routeCaller } from '../stemcells/route-calls.test-support.ts';
import { taskOutputPath } from '../tasks/task-files.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { cloudCheckFeature } from './index.ts';
import { instancePlan, ScanAgents, ScanCloud } from './scan-fakes.test-support.ts';

const log = createDirectorLog({ file: null, level: 'error', stderr: false });

for (const backend of testBackends()) {
  describe(`cloud check on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let stateDir: string;
    let runner: TaskRunner;
    let cloud: ScanCloud;
    let agents: ScanAgents;
    let call: ReturnType<typeof routeCaller>;
    let logCalls: CallLog;
    // Read by the tasks when they run: a test may turn auto_fix_stateful_nodes on.
    const options = { agents: () => agents, agentTimeoutMs: 200, autoFixStatefulNodes: false };

    before(async () => {
      const feature = cloudCheckFeature(options);
      database = await backend.create({
        migrations: [
          coreMigration,
          stemcellsMigration,
          ipReservationsMigration,
          deploymentsMigration,
          persistentDiskActiveMigration,
          orphanDisksMigration,
          ...feature.migrations,
        ],
      });
      stateDir = await mkdtemp(join(tmpdir(), 'refit-cck-'));
      runner = new TaskRunner({
        store: new TaskStore(database.db),
        stateDir,
        workers: 2,
        runnerId: 't',
        log,
      });
      const deps = {
        db: database.db,
        tasks: runner,
        blobstore: {} as Blobstore,
        get cloud() {
          return cloud;
        },
        events: new DbEventRecorder(database.db),
        stateDir,
        tmpDir: stateDir,
        directorUuid: 'uuid',
        directorName: 'test',
      } satisfies DirectorDeps;
      runner.register(feature.taskHandlers(deps));
      runner.start();
      call = routeCaller(feature.routes(deps));
    });
    after(async () => {
      await runner.stop();
      await database.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    });

    /** `dep` with web/0 (vm-a, disk-a) and web/1 (vm-b, no disk), both converged. */
    beforeEach(async () => {
      logCalls = new CallLog();
      cloud = new ScanCloud(logCalls);
      agents = new ScanAgents(logCalls);
      for (const table of [
        'cloud_check_problems',
        'persistent_disks',
        'orphan_disks',
        'vms',
        'instances',
        'deployments',
        'stemcells',
        'events',
      ])
        await database.db.execute(`DELETE FROM ${table}`);
      // v1 is what a manifest may still name; the VM row says it runs v2 (after a reload).
      await new StemcellStore(database.db).insert({
        name: 'sc',
        version: '1',
        operatingSystem: 'ubuntu',
        cpi: 'fake',
        cid: 'stemcell-cid-1',
        sha1: 'x',
        apiVersion: null,
      });
      await new StemcellStore(database.db).insert({
        name: 'sc',
        version: '2',
        operatingSystem: 'ubuntu',
        cpi: 'fake',
        cid: 'stemcell-cid-2',
        sha1: 'x',
        apiVersion: null,
      });
      const store = new DeploymentStore(database.db);
      await store.ensure('dep');
      await store.saveManifest('dep', 'name: dep\nupdate: {update_watch_time: 10}\n', null);
      const state = store.stateStore('dep');
      for (const [id, index, vm, agent, disk] of [
        ['i-0', 0, 'vm-a', 'agent-a', 'disk-a'],
        ['i-1', 1, 'vm-b', 'agent-b', null],
      ] as const) {
        await store.createInstance('dep', instancePlan(id, index));
        await state.vmCreated(id, {
          cid: vm,
          agentId: agent,
          stemcell: { name: 'sc', version: '2' },
          cloudProperties: { cpu: 1 },
          env: {},
          networkSettings: {},
          createdAt: '2026-01-01T00:00:00Z',
        });
        cloud.vms.set(vm, { agentId: agent, disks: new Set(disk ? [disk] : []) });
        if (disk) {
          await state.diskCreated(id, { cid: disk, size: 1024, cloudProperties: {} });
          cloud.disks.add(disk);
          agents.disks.set(agent, [disk]);
        }
        await state.updateCompleted(id, {
          state: 'started',
          hashes: { packages: 'p', job: 'j', configuration: 'c' },
          applySpec: {
            deployment: 'dep',
            name: 'web',
            id,
            index,
            job: { templates: [] },
            networks: {},
            packages: {},
            persistent_disk: disk ? 1024 : 0,
          },
        });
      }
    });

    const scan = async () => {
      const task = await finishedTask(runner, await call('POST', '/deployments/dep/scans'));
      assert.equal(task.state, 'done', task.result ?? '');
      assert.equal(task.result, 'scan complete');
      assert.equal(task.description, 'scan cloud');
      return task;
    };
    const problems = async () => {
      const reply = await call('GET', '/deployments/dep/problems');
      assert.equal(reply.kind, 'json');
      return (reply.kind === 'json' ? reply.body : []) as {
        id: number;
        type: string;
        description: string;
        resolutions: { name: string; plan: string }[];
        instance_group: string;
        data: Record<string, unknown>;
      }[];
    };
    const apply = async (resolutions: Record<string, string | null>) =>
      finishedTask(runner, await call('PUT', '/deployments/dep/problems', JSON.stringify({ resolutions })));

    it('a healthy deployment scans to no problems, with BOSH stage texts', async () => {
      const task = await scan();
      const events = (await readFile(taskOutputPath(stateDir, task.id, 'event'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { stage: string; task: string });
      assert.ok(
        events.some(
          (e) => e.stage === 'Scanning 2 VMs' && e.task === '2 OK, 0 unresponsive, 0 missing, 0 unbound',
        ),
      );
      assert.ok(
        events.some(
          (e) =>
            e.stage === 'Scanning 1 persistent disks' &&
            e.task === '1 OK, 0 missing, 0 inactive, 0 mount-info mismatch',
        ),
      );
      assert.deepEqual(await problems(), []);
    });

    it('an unresponsive agent: described as BOSH, ignore by auto, reboot_vm reboots and waits', async () => {
      agents.silent.add('agent-b');
      await scan();
      const [problem, ...rest] = await problems();
      assert.equal(rest.length, 0);
      assert.ok(problem);
      assert.equal(problem.type, 'unresponsive_agent');
      assert.equal(problem.description, "VM for 'web/i-1 (1)' with cloud ID 'vm-b' is not responding.");
      assert.deepEqual(
        problem.resolutions.map((r) => r.name),
        [
          'ignore',
          'reboot_vm',
          'recreate_vm_without_wait',
          'recreate_vm',
          'delete_vm',
          'delete_vm_reference',
        ],
      );
      assert.equal(problem.instance_group, 'web');
      // Scanning again counts the same problem, it does not add one.
      await scan();
      assert.deepEqual(
        (await problems()).map((p) => p.id),
        [problem.id],
      );
      // The agent answers again by the time reboot_vm runs: skipped as BOSH does.
      agents.silent.delete('agent-b');
      const refused = await apply({ [problem.id]: 'reboot_vm' });
      assert.equal(refused.state, 'error');
      assert.equal((await problems()).length, 1);
      agents.silent.add('agent-b');
      const auto = await apply({ [problem.id]: null });
      assert.equal(auto.result, '1 resolved');
      assert.deepEqual(await problems(), []);
      await scan();
      const [again] = await problems();
      assert.ok(again);
      // The agent stays silent to ping; the fake's wait_until_ready answers once the VM rebooted.
      const rebooted = await apply({ [again.id]: 'reboot_vm' });
      assert.equal(rebooted.state, 'done', rebooted.result ?? '');
      assert.ok(logCalls.entries.includes('cpi:reboot_vm:vm-b'));
      assert.ok(logCalls.entries.includes('agent:agent-b:ping:vm-b'));
    });

    it('a missing VM is recreated from the stemcell it ran, with its disk re-attached and started', async () => {
      cloud.vms.delete('vm-a');
      agents.silent.add('agent-a');
      await scan();
      const [problem] = await problems();
      assert.ok(problem);
      assert.equal(problem.type, 'missing_vm');
      assert.equal(problem.description, "VM for 'web/i-0 (0)' with cloud ID 'vm-a' missing.");
      const done = await apply({ [problem.id]: 'recreate_vm' });
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(done.result, '1 resolved');
      const create = cloud.calls.find((c) => c.method === 'create_vm');
      assert.ok(create);
      assert.equal(create.args[1], 'stemcell-cid-2');
      // The cloud is still asked to delete the lost VM (its "not found" is fine), before the new one.
      const calls = cloud.calls.map(
        (c) => c.method + (c.method === 'delete_vm' ? `:${JSON.stringify(c.args[0])}` : ''),
      );
      const deleted = calls.indexOf('delete_vm:"vm-a"');
      assert.ok(deleted >= 0 && deleted < calls.indexOf('create_vm'), calls.join(' '));
      assert.deepEqual(create.args[4], ['disk-a']);
      const [i0] = await new DeploymentStore(database.db).instances('dep');
      assert.ok(i0?.vm);
      assert.notEqual(i0.vm.cid, 'vm-a');
      assert.equal(i0.disk?.cid, 'disk-a');
      assert.equal(i0.state, 'started');
      const newAgent = i0.vm.agentId;
      for (const step of ['add_persistent_disk', 'mount_disk', 'apply', 'start', 'run_script:post-start'])
        assert.ok(logCalls.entries.includes(`agent:${newAgent}:${step}`), step);
      const events = await database.db.query<{ action: string; object_type: string }>(
        'SELECT action, object_type FROM events ORDER BY id',
      );
      assert.ok(events.some((e) => e.action === 'resolve' && e.object_type === 'problem'));
      assert.ok(events.some((e) => e.action === 'create' && e.object_type === 'vm'));
    });

    it('recreate refuses clearly when the stemcell the VM ran is gone', async () => {
      cloud.vms.delete('vm-a');
      agents.silent.add('agent-a');
      await scan();
      const [problem] = await problems();
      assert.ok(problem);
      await database.db.execute('DELETE FROM stemcells');
      const failed = await apply({ [problem.id]: 'recreate_vm' });
      assert.equal(failed.state, 'error');
      const events = await readFile(taskOutputPath(stateDir, failed.id, 'event'), 'utf8');
      assert.match(events, /stemcell 'sc\/2' it runs is no longer uploaded/);
      assert.equal(cloud.calls.filter((c) => c.method === 'create_vm').length, 0);
      assert.equal((await problems()).length, 1);
    });

    it('a missing disk: delete_disk_reference forgets it', async () => {
      cloud.disks.delete('disk-a');
      await scan();
      const [problem] = await problems();
      assert.ok(problem);
      assert.equal(problem.type, 'missing_disk');
      assert.equal(problem.description, "Disk 'disk-a' (web/i-0, 1024M) is missing");
      assert.deepEqual(problem.resolutions, [
        { name: 'ignore', plan: 'Skip for now' },
        { name: 'delete_disk_reference', plan: 'Delete disk reference (DANGEROUS!)' },
      ]);
      const done = await apply({ [problem.id]: 'delete_disk_reference' });
      assert.equal(done.result, '1 resolved');
      const [i0] = await new DeploymentStore(database.db).instances('dep');
      assert.equal(i0?.disk, null);
      assert.ok(logCalls.entries.includes('agent:agent-a:unmount_disk'));
      assert.ok(logCalls.entries.includes('cpi:detach_disk:vm-a'));
    });

    it('delete_vm refuses while a persistent disk is attached; delete_vm deletes a stateless VM', async () => {
      agents.silent.add('agent-a');
      agents.silent.add('agent-b');
      await scan();
      const found = await problems();
      const onDisk = found.find((p) => p.description.includes("'web/i-0 (0)'"));
      const stateless = found.find((p) => p.description.includes("'web/i-1 (1)'"));
      assert.ok(onDisk && stateless);
      const refused = await apply({ [onDisk.id]: 'delete_vm' });
      assert.equal(refused.state, 'error');
      assert.ok(!logCalls.entries.includes('cpi:delete_vm:vm-a'));
      assert.equal((await apply({ [stateless.id]: 'delete_vm' })).result, '1 resolved');
      assert.ok(logCalls.entries.includes('cpi:delete_vm:vm-b'));
      const [, i1] = await new DeploymentStore(database.db).instances('dep');
      assert.equal(i1?.vm, null);
    });

    it('an unmounted disk is mount_info_mismatch; reattach_disk attaches and mounts it', async () => {
      agents.disks.set('agent-a', []);
      await scan();
      const [problem] = await problems();
      assert.ok(problem);
      assert.equal(problem.type, 'mount_info_mismatch');
      assert.equal(
        problem.description,
        "Inconsistent mount information:\nRecord shows that disk 'disk-a' should be mounted on vm-a.\nHowever it is currently :\n\tNot mounted in any VM",
      );
      assert.deepEqual(problem.data.owner_vms, []);
      const done = await apply({ [problem.id]: 'reattach_disk' });
      assert.equal(done.result, '1 resolved');
      assert.ok(logCalls.entries.includes('cpi:attach_disk:vm-a'));
      assert.ok(logCalls.entries.includes('agent:agent-a:mount_disk'));
    });

    it('a problem whose instance went away is invalid_problem, closed by auto', async () => {
      agents.silent.add('agent-b');
      await scan();
      const [problem] = await problems();
      assert.ok(problem);
      await new DeploymentStore(database.db).stateStore('dep').instanceDeleted('i-1');
      const [invalid] = await problems();
      assert.equal(invalid?.type, 'invalid_problem');
      assert.equal(
        invalid?.description,
        `Problem (unresponsive_agent i-1) is no longer valid: Instance 'i-1' is no longer in the database`,
      );
      assert.deepEqual(invalid?.resolutions, [{ name: 'close', plan: 'Close problem' }]);
      assert.equal((await apply({ [problem.id]: null })).result, '1 resolved');
    });

    it('a held deployment lock refuses scans and scan_and_fix; a paused resurrection refuses scan_and_fix', async () => {
      await database.db.execute(
        'INSERT INTO task_locks (name, task_id, acquired_ms, expires_ms) VALUES ($1, $2, $3, $4)',
        ['lock:deployment:dep', 999_999, Date.now(), Date.now() + 600_000],
      );
      try {
        const refused = await finishedTask(runner, await call('POST', '/deployments/dep/scans'));
        assert.equal(refused.state, 'error');
        const events = await readFile(taskOutputPath(stateDir, refused.id, 'event'), 'utf8');
        assert.match(events, /Unable to get deployment lock, maybe a deployment is in progress/);
        const fix = await finishedTask(
          runner,
          await call('PUT', '/deployments/dep/scan_and_fix', JSON.stringify({ jobs: { web: ['1'] } })),
        );
        assert.equal(fix.state, 'error');
        assert.equal(fix.description, 'scan and fix');
      } finally {
        await database.db.execute('DELETE FROM task_locks WHERE name = $1', ['lock:deployment:dep']);
      }
      await call('PUT', '/resurrection', JSON.stringify({ resurrection_paused: true }));
      const paused = await finishedTask(
        runner,
        await call('PUT', '/deployments/dep/scan_and_fix', JSON.stringify({ jobs: { web: ['1'] } })),
      );
      assert.equal(paused.state, 'error');
      await call('PUT', '/resurrection', JSON.stringify({ resurrection_paused: false }));
    });

    it('scan_and_fix recreates only the named stateless instance and skips stateful ones', async () => {
      cloud.vms.delete('vm-a');
      cloud.vms.delete('vm-b');
      agents.silent.add('agent-a');
      agents.silent.add('agent-b');
      const fix = await finishedTask(
        runner,
        await call('PUT', '/deployments/dep/scan_and_fix', JSON.stringify({ jobs: { web: ['i-0', 1] } })),
      );
      assert.equal(fix.state, 'done', fix.result ?? '');
      assert.equal(fix.result, 'scan and fix complete');
      const [i0, i1] = await new DeploymentStore(database.db).instances('dep');
      assert.equal(i0?.vm?.cid, 'vm-a', 'stateful web/0 left alone');
      assert.ok(i1?.vm && i1.vm.cid !== 'vm-b', 'web/1 recreated');
      assert.ok(logCalls.entries.some((e) => e.endsWith(':run_script:post-deploy')));
    });

    it('with auto_fix_stateful_nodes, scan_and_fix recreates a stateful instance and re-attaches its disk', async () => {
      options.autoFixStatefulNodes = true;
      try {
        cloud.vms.delete('vm-a');
        agents.silent.add('agent-a');
        const fix = await finishedTask(
          runner,
          await call('PUT', '/deployments/dep/scan_and_fix', JSON.stringify({ jobs: { web: ['i-0'] } })),
        );
        assert.equal(fix.state, 'done', fix.result ?? '');
        const [i0] = await new DeploymentStore(database.db).instances('dep');
        assert.ok(i0?.vm && i0.vm.cid !== 'vm-a', 'stateful web/0 recreated');
        assert.equal(i0.disk?.cid, 'disk-a');
        assert.ok(logCalls.entries.includes(`cpi:attach_disk:${i0.vm.cid}`), logCalls.entries.join('\n'));
        assert.ok(logCalls.entries.includes('cpi:set_disk_metadata:disk-a'));
      } finally {
        options.autoFixStatefulNodes = false;
      }
    });

    it('scan_and_fix replaces a VM whose agent is unresponsive: the old VM is deleted first', async () => {
      agents.silent.add('agent-b');
      const fix = await finishedTask(
        runner,
        await call('PUT', '/deployments/dep/scan_and_fix', JSON.stringify({ jobs: { web: ['i-1'] } })),
      );
      assert.equal(fix.state, 'done', fix.result ?? '');
      const deleted = logCalls.entries.indexOf('cpi:delete_vm:vm-b');
      const created = logCalls.entries.indexOf('cpi:create_vm');
      assert.ok(deleted >= 0 && created > deleted, logCalls.entries.join('\n'));
      assert.ok(!cloud.vms.has('vm-b'));
      assert.deepEqual(await problems(), []);
    });

    it("an inactive disk (a migration the director did not finish): found, described as BOSH; activate_disk and delete_disk as BOSH's handler", async () => {
      const store = new DeploymentStore(database.db);
      const state = store.stateStore('dep');
      // web/0's migration died mid-copy: the new disk attached and on the migration target.
      await state.inactiveDiskCreated('i-0', { cid: 'disk-new', size: 2048, cloudProperties: {} });
      cloud.disks.add('disk-new');
      cloud.vms.get('vm-a')?.disks.add('disk-new');
      agents.disks.set('agent-a', ['disk-a', 'disk-new']);
      const task = await scan();
      const events = (await readFile(taskOutputPath(stateDir, task.id, 'event'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { stage: string; task: string });
      assert.ok(
        events.some(
          (e) =>
            e.stage === 'Scanning 2 persistent disks' &&
            e.task === '1 OK, 0 missing, 1 inactive, 0 mount-info mismatch',
        ),
        JSON.stringify(events),
      );
      const [problem, ...rest] = await problems();
      assert.equal(rest.length, 0);
      assert.ok(problem);
      assert.equal(problem.type, 'inactive_disk');
      assert.equal(problem.description, "Disk 'disk-new' (2048M) for instance 'web/i-0 (0)' is inactive");
      assert.deepEqual(
        problem.resolutions.map((r) => r.name),
        ['ignore', 'delete_disk', 'activate_disk'],
      );
      assert.deepEqual(
        (await store.instances('dep'))[0]?.disk?.cid,
        'disk-a',
        'the active disk is unchanged',
      );

      const activate = await apply({ [problem.id]: 'activate_disk' });
      assert.equal(activate.state, 'error');
      assert.match(activate.result ?? '', /Instance already has an active disk/);
      const inUse = await apply({ [problem.id]: 'delete_disk' });
      assert.equal(inUse.state, 'error');
      assert.match(inUse.result ?? '', /Disk is currently in use/);
      assert.equal((await problems()).length, 1, 'still open');

      agents.disks.set('agent-a', ['disk-a']);
      const deleted = await apply({ [problem.id]: 'delete_disk' });
      assert.equal(deleted.state, 'done', deleted.result ?? '');
      assert.ok(logCalls.entries.includes('cpi:detach_disk:vm-a'));
      assert.ok(!cloud.calls.some((c) => c.method === 'delete_disk'), 'orphaned, as BOSH, not deleted');
      assert.deepEqual(await database.db.query('SELECT disk_cid FROM orphan_disks'), [
        { disk_cid: 'disk-new' },
      ]);
      assert.deepEqual(await store.inactiveDisks('dep'), []);
      assert.deepEqual(await problems(), []);

      // activate_disk onto an instance without an active disk, when its agent has the disk mounted.
      await state.inactiveDiskCreated('i-1', { cid: 'disk-lone', size: 512, cloudProperties: {} });
      cloud.disks.add('disk-lone');
      cloud.vms.get('vm-b')?.disks.add('disk-lone');
      await scan();
      const [lone] = await problems();
      assert.ok(lone);
      assert.equal((await apply({ [lone.id]: 'activate_disk' })).state, 'error', 'not mounted');
      agents.disks.set('agent-b', ['disk-lone']);
      const activated = await apply({ [lone.id]: 'activate_disk' });
      assert.equal(activated.state, 'done', activated.result ?? '');
      assert.equal((await store.instances('dep'))[1]?.disk?.cid, 'disk-lone');
      await scan();
      assert.deepEqual(await problems(), []);
    });
  });
}
