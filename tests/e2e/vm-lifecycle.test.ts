// End to end without the director: the stemcell builder makes v1, the real refit-cpi-local runs
// a VM from it, the agent inside answers over a real nats-server, runs a job under supervision,
// keeps a persistent disk across reboots, and delete_vm leaves nothing on the host.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import { parse } from 'yaml';
import { AgentStateValue, StemcellManifest } from '@refit/protocol';
import { AgentBus, HeartbeatWatch } from './vm-harness/agent-client.ts';
import { callCpi, type CpiCommand } from './vm-harness/cpi-process.ts';
import { DavServer } from './vm-harness/dav-server.ts';
import { hostTraces, pathExists } from './vm-harness/host-snapshot.ts';
import { NatsServer } from './vm-harness/nats-server.ts';
import { tgzOf, tickerFiles, tickerMarker } from './vm-harness/ticker-job.ts';
import { hostPidsWith, inVm, rebootFromInside, vmInitPid } from './vm-harness/vm-processes.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const cpiBin = join(repo, 'packages/cpi-local/bin/refit-cpi-local');

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`, { cause: last });
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(
  'a VM from a refit stemcell, end to end',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    const tag = randomUUID().slice(0, 8);
    const agentId = `agent-${tag}`;
    let work: string;
    let stateDir: string;
    let nats: NatsServer;
    let dav: DavServer;
    let nc: NatsConnection;
    let bus: AgentBus;
    let heartbeats: HeartbeatWatch;
    let cpi: CpiCommand;
    let manifest: StemcellManifest;
    let imagePath: string;
    let stemcellCid: string;
    let vmCid: string;
    let diskCid: string;

    const getState = async (): Promise<AgentStateValue> =>
      AgentStateValue.parse(await bus.send(agentId, 'get_state', [], 5000));
    const vmPid = (): Promise<number> =>
      waitFor('the VM init on the host', 10_000, () => vmInitPid([vmCid, agentId, `vm-${tag}`]));

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'vm-e2e-'));
      stateDir = join(work, 'cpi-state');
      await run(stemcellBin, [
        'build',
        '--name',
        'refit-e2e',
        '--version',
        '1',
        '--os',
        'refit-minimal',
        '--out',
        join(work, 'v1'),
        '--base',
        'minimal',
      ]);
      // The director unpacks the stemcell tarball and gives the CPI the image's path.
      await mkdir(join(work, 'v1-unpacked'));
      await run('tar', ['-xzf', join(work, 'v1/stemcell.tgz'), '-C', join(work, 'v1-unpacked')]);
      manifest = StemcellManifest.parse(parse(await readFile(join(work, 'v1-unpacked/stemcell.MF'), 'utf8')));
      imagePath = join(work, 'v1-unpacked/image');

      nats = await NatsServer.start(AbortSignal.timeout(10_000));
      dav = new DavServer(join(work, 'blobs'));
      await dav.start();
      const config = join(work, 'cpi.json');
      await writeFile(
        config,
        JSON.stringify({ state_dir: stateDir, agent: { mbus: nats.url, blobstore: dav.blobstoreSettings } }),
      );
      cpi = { command: cpiBin, args: ['--config', config] };
      nc = await nats.connect();
      bus = new AgentBus(nc);
      heartbeats = new HeartbeatWatch(nc);
    });

    after(async () => {
      // Best effort: whatever a failed step left behind goes too.
      if (vmCid) await callCpi(cpi, 'delete_vm', [vmCid]).catch(() => undefined);
      if (diskCid) await callCpi(cpi, 'delete_disk', [diskCid]).catch(() => undefined);
      if (stemcellCid) await callCpi(cpi, 'delete_stemcell', [stemcellCid]).catch(() => undefined);
      bus?.close();
      heartbeats?.close();
      await nc?.close();
      await nats?.stop();
      await dav?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it("takes the builder's stemcell in the format the CPI reports", async () => {
      const info = (await callCpi(cpi, 'info', [])) as { api_version: number; stemcell_formats: string[] };
      assert.equal(info.api_version, 2);
      assert.ok(
        manifest.stemcell_formats?.some((f) => info.stemcell_formats.includes(f)),
        `stemcell formats ${String(manifest.stemcell_formats)} vs CPI ${String(info.stemcell_formats)}`,
      );
      stemcellCid = (await callCpi(cpi, 'create_stemcell', [imagePath, manifest.cloud_properties])) as string;
      assert.equal(typeof stemcellCid, 'string');
    });

    it('creates a VM whose agent answers ping and get_state and reports v1', async () => {
      const since = performance.now();
      const networks = {
        default: {
          type: 'manual',
          ip: '127.0.1.41',
          netmask: '255.255.255.0',
          cloud_properties: {},
          default: ['dns', 'gateway'],
        },
      };
      const created = (await callCpi(cpi, 'create_vm', [agentId, stemcellCid, {}, networks, [], {}])) as [
        string,
        unknown,
      ];
      vmCid = created[0];
      assert.equal(await callCpi(cpi, 'has_vm', [vmCid]), true);
      await heartbeats.next(agentId, since, 30_000);
      assert.equal(await bus.send(agentId, 'ping', [], 10_000), 'pong');
      const state = await getState();
      assert.equal(state.agent_id, agentId);
      assert.equal(state.stemcell?.version, '1');
      assert.equal(state.stemcell?.name, 'refit-e2e');
    });

    it('runs an applied job under supervision and starts it again when it is killed', async () => {
      const templates = await dav.put(`templates-${tag}`, await tgzOf(tickerFiles(tag)));
      const spec = {
        deployment: 'e2e',
        name: 'ticker',
        index: 0,
        id: randomUUID(),
        job: { name: 'ticker', templates: [{ name: 'ticker', version: 'v1', ...templates }] },
        packages: {},
        networks: {
          default: { type: 'manual', ip: '127.0.1.41', netmask: '255.255.255.0', cloud_properties: {} },
        },
        configuration_hash: 'e2e-1',
        rendered_templates_archive: templates,
      };
      assert.equal(await bus.run(agentId, 'apply', [spec], 30_000), 'applied');
      assert.equal(await bus.run(agentId, 'start', [], 30_000), 'started');
      const running = await waitFor('job running', 20_000, async () => {
        const state = await getState();
        return state.job_state === 'running' &&
          state.processes.some((p) => p.name === 'ticker' && p.state === 'running')
          ? state
          : undefined;
      });
      assert.equal(running.job?.name, 'ticker');
      const [first] = await waitFor('ticker process on the host', 10_000, async () => {
        const pids = await hostPidsWith(tickerMarker(tag));
        return pids.length === 1 ? pids : undefined;
      });
      assert.ok(first);
      process.kill(first, 'SIGKILL');
      const [second] = await waitFor('ticker restarted', 30_000, async () => {
        const pids = await hostPidsWith(tickerMarker(tag));
        return pids.length === 1 && pids[0] !== first ? pids : undefined;
      });
      assert.notEqual(second, first);
      await waitFor('job running again', 20_000, async () =>
        (await getState()).job_state === 'running' ? true : undefined,
      );
    });

    it('mounts an attached persistent disk at /var/vcap/store and writes to it', async () => {
      diskCid = (await callCpi(cpi, 'create_disk', [64, {}, vmCid])) as string;
      const hint = await callCpi(cpi, 'attach_disk', [vmCid, diskCid]);
      await bus.run(agentId, 'add_persistent_disk', [diskCid, hint], 30_000);
      await bus.run(agentId, 'mount_disk', [diskCid], 30_000);
      assert.deepEqual(await bus.run(agentId, 'list_disk', [], 10_000), [diskCid]);
      const pid = await vmPid();
      await inVm(pid, `echo "written-${tag}" > /var/vcap/store/survivor && sync`);
      assert.match(await inVm(pid, 'cat /proc/mounts'), / \/var\/vcap\/store /);
    });

    const assertDiskSurvived = async (): Promise<void> => {
      await waitFor('persistent disk mounted again', 15_000, async () =>
        (await inVm(await vmPid(), 'cat /proc/mounts')).includes(' /var/vcap/store ') ? true : undefined,
      );
      assert.equal((await inVm(await vmPid(), 'cat /var/vcap/store/survivor')).trim(), `written-${tag}`);
    };
    it('keeps the persistent disk across reboot_vm: new init, heartbeat, ping, disk mounted with its data', async () => {
      const before = await vmPid();
      const since = performance.now();
      await callCpi(cpi, 'reboot_vm', [vmCid]);
      await heartbeats.next(agentId, since, 30_000);
      await bus.waitForPing(agentId, 10_000);
      assert.notEqual(await vmPid(), before, 'a new init after the reboot');
      assert.equal((await getState()).stemcell?.version, '1');
      await assertDiskSurvived();
    });

    it('keeps the persistent disk across a reboot from inside the VM (busybox reboot -f)', async () => {
      const before = await vmPid();
      const since = performance.now();
      await rebootFromInside(before);
      await heartbeats.next(agentId, since, 30_000);
      await bus.waitForPing(agentId, 10_000);
      assert.notEqual(await vmPid(), before, 'a new init after the reboot');
      assert.equal(await callCpi(cpi, 'has_vm', [vmCid]), true);
      await assertDiskSurvived();
    });

    it('delete_vm leaves no process, mount or directory behind', async () => {
      await callCpi(cpi, 'detach_disk', [vmCid, diskCid]);
      await callCpi(cpi, 'delete_vm', [vmCid]);
      const deleted = vmCid;
      vmCid = '';
      assert.equal(await callCpi(cpi, 'has_vm', [deleted]), false);
      for (const needle of [deleted, join(stateDir, 'vms')]) {
        const traces = await waitFor('host clean', 5_000, async () => {
          const t = await hostTraces(needle);
          return t.processes.length === 0 && t.mounts.length === 0 ? t : undefined;
        }).catch(async () => hostTraces(needle));
        assert.deepEqual(traces, { processes: [], mounts: [] }, needle);
      }
      assert.deepEqual(await hostPidsWith(tickerMarker(tag)), []);
      assert.equal(await pathExists(join(stateDir, 'vms', deleted)), false);
      await assert.rejects(callCpi(cpi, 'delete_vm', [deleted]), /VMNotFound/);
      await callCpi(cpi, 'delete_disk', [diskCid]);
      diskCid = '';
      await callCpi(cpi, 'delete_stemcell', [stemcellCid]);
      stemcellCid = '';
    });
  },
);
