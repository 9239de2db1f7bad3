// OS reload end to end without the director: refit-stemcell builds v1, v2 and a v2 whose agent
// never starts; the real refit-cpi-local runs a VM on v1 with a persistent disk and a job; the
// agent inside stages roots with update_rootfs (real nats-server, a dav blob server with Range on
// 127.0.0.1) and reboots; the boot step swaps roots, counts attempts and falls back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import { parse, stringify } from 'yaml';
import {
  AgentStateValue,
  Heartbeat,
  RootfsBootState,
  rootfsSignedMessage,
  StemcellManifest,
  UpdateRootfsProgress,
  UpdateRootfsResult,
} from '@refit/protocol';
import { AgentBus, AgentException, HeartbeatWatch } from './vm-harness/agent-client.ts';
import { callCpi, type CpiCommand } from './vm-harness/cpi-process.ts';
import { NatsServer } from './vm-harness/nats-server.ts';
import { tgzOf, tickerFiles, tickerMarker } from './vm-harness/ticker-job.ts';
import { hostPidsWith, inVm, vmInitPid } from './vm-harness/vm-processes.ts';
import { ReloadBlobServer } from './reload-vm-blob-server.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const cpiBin = join(repo, 'packages/cpi-local/bin/refit-cpi-local');
const COMMIT_DEADLINE_MS = 10_000;
const MAX_BOOT_ATTEMPTS = 2;

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
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Built {
  readonly version: string;
  readonly rootfs: string;
  readonly multiDigest: string;
  readonly rootSha256: string;
}

async function build(work: string, version: string, extra: string[] = []): Promise<Built> {
  const out = join(work, `sc-${version}`);
  const { stdout } = await run(
    stemcellBin,
    [
      'build',
      '--name',
      'refit-e2e',
      '--version',
      version,
      '--os',
      'refit-minimal',
      '--out',
      out,
      '--base',
      'minimal',
      ...extra,
    ],
    { maxBuffer: 1 << 22 },
  );
  const d = JSON.parse(stdout) as {
    rootfs: { path: string; sha1: string; sha256: string };
    root_archive: { sha256: string };
  };
  return {
    version,
    rootfs: d.rootfs.path,
    multiDigest: `sha1:${d.rootfs.sha1};sha256:${d.rootfs.sha256}`,
    rootSha256: d.root_archive.sha256,
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(
  'OS reload of a refit-cpi-local VM',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    const tag = randomUUID().slice(0, 8);
    const agentId = `agent-${tag}`;
    let work: string;
    let stateDir: string;
    let nats: NatsServer;
    let blobs: ReloadBlobServer;
    let nc: NatsConnection;
    let bus: AgentBus;
    let heartbeats: HeartbeatWatch;
    let cpi: CpiCommand;
    let v1: Built;
    let v2: Built;
    let broken: Built;
    let badInstall: Built;
    let unsigned: Built;
    let stemcellCid = '';
    let vmCid = '';
    let diskCid = '';
    let dataSum = '';
    let spec: Record<string, unknown>;
    const figures: Record<string, number> = {};

    const vmDir = () => join(stateDir, 'vms', vmCid);
    const bootState = async () =>
      RootfsBootState.parse(
        JSON.parse(await readFile(join(vmDir(), 'ephemeral/sys/boot/state.json'), 'utf8')),
      );
    const getState = async () => AgentStateValue.parse(await bus.send(agentId, 'get_state', [], 5000));
    const vmPid = () => waitFor('the VM init on the host', 15_000, () => vmInitPid([vmCid]));
    const stagedRoots = async () =>
      (await readdir(join(vmDir(), 'ephemeral/rootfs/roots')).catch(() => [] as string[])).sort();
    const nextRecordExists = () =>
      readFile(join(vmDir(), 'ephemeral/sys/boot/next.json')).then(
        () => true,
        () => false,
      );
    const tickerPids = () => hostPidsWith(tickerMarker(tag));
    /** The VM's agent process on the host (same pid namespace as the VM's init). */
    const agentPid = async (): Promise<number | undefined> => {
      const init = await vmInitPid([vmCid]);
      if (init === undefined) return undefined;
      const ns = await readlink(`/proc/${init}/ns/pid`);
      for (const pid of await hostPidsWith('refit-agent.mjs')) {
        if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => '')) === ns) return pid;
      }
      return undefined;
    };

    /** Starts update_rootfs and polls get_task, keeping every progress seen. */
    const updateRootfs = async (
      blob: string,
      digest: string,
      onProgress: (p: UpdateRootfsProgress) => void = () => undefined,
      options?: Record<string, unknown>,
    ): Promise<UpdateRootfsResult> => {
      const args = options === undefined ? [blob, digest] : [blob, digest, options];
      const started = (await bus.send(agentId, 'update_rootfs', args, 5000)) as {
        agent_task_id: string;
      };
      const deadline = Date.now() + 120_000;
      for (;;) {
        const value = (await bus.send(agentId, 'get_task', [started.agent_task_id], 5000)) as {
          state?: string;
          progress?: unknown;
        };
        if (value.state !== 'running') return UpdateRootfsResult.parse(value);
        if (value.progress !== undefined) onProgress(UpdateRootfsProgress.parse(value.progress));
        if (Date.now() > deadline) throw new Error('update_rootfs still running after 120 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const waitStemcell = async (version: string, since: number, timeoutMs: number) =>
      waitFor(`a heartbeat reporting stemcell ${version}`, timeoutMs, async () => {
        const hb = await heartbeats.next(agentId, since, 2000).catch(() => undefined);
        if (hb === undefined) return undefined;
        const body = Heartbeat.parse(hb.body);
        if (body.stemcell?.version === version) return { at: hb.at, body };
        since = hb.at + 0.001;
        return undefined;
      });

    const assertDataIntact = async () => {
      const pid = await vmPid();
      await waitFor('persistent disk mounted again', 20_000, async () =>
        (await inVm(pid, 'cat /proc/mounts')).includes(' /var/vcap/store ') ? true : undefined,
      );
      const inside = (await inVm(pid, 'sha256sum /var/vcap/store/data.bin')).split(' ')[0];
      assert.equal(inside, dataSum, 'the persistent data is byte-identical (checksum inside the VM)');
      const host = sha256(await readFile(join(stateDir, 'disks', diskCid, 'data/data.bin')));
      assert.equal(host, dataSum, 'the persistent data is byte-identical (checksum on the host)');
    };

    const startJob = async () => {
      assert.equal(await bus.run(agentId, 'apply', [spec], 30_000), 'applied');
      assert.equal(await bus.run(agentId, 'start', [], 30_000), 'started');
      return waitFor('the ticker job running', 30_000, async () => {
        const pids = await tickerPids();
        return pids.length === 1 && (await getState()).job_state === 'running' ? pids[0] : undefined;
      });
    };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'reload-e2e-'));
      stateDir = join(work, 'cpi-state');
      const brokenAgent = join(work, 'broken-agent.mjs');
      await writeFile(brokenAgent, "console.error('this agent never starts'); process.exit(3);\n");
      const v2Agent = join(work, 'v2-agent.mjs');
      await writeFile(
        v2Agent,
        `globalThis.REFIT_AGENT_BUILD = 'refit-agent-e2e-v2-${tag}';\nawait import(${JSON.stringify(join(repo, 'packages/agent/src/main.ts'))});\n`,
      );
      // Every root is signed and trusts its signing key (baked in): each reload below is checked
      // against the key of the root running at the time.
      const keys = JSON.parse((await run(stemcellBin, ['keygen', '--out', join(work, 'keys')])).stdout) as {
        private_key: string;
        public_key: string;
      };
      const signing = ['--signing-key', keys.private_key, '--trust-key', keys.public_key];
      [v1, v2, broken] = await Promise.all([
        build(work, '1', signing),
        build(work, '2', ['--agent-entry', v2Agent, ...signing]),
        build(work, '9', ['--agent-entry', brokenAgent, ...signing]),
      ]);
      // v2 with an install script that fails: same root, another tarball.
      const repack = join(work, 'repack');
      await mkdir(repack);
      await run('tar', ['-xzf', v2.rootfs, '-C', repack]);
      // v2 without its rootfs.MF.sig: a VM whose root trusts a key must refuse it.
      const unsignedPath = join(work, 'unsigned-rootfs.tgz');
      const pack = (out: string, members: string) =>
        run('sh', ['-c', `tar -cf - -C "$1" ${members} | gzip -1 > "$2"`, 'sh', repack, out]);
      await pack(unsignedPath, 'rootfs.MF install root.tar');
      unsigned = {
        version: '2',
        rootfs: unsignedPath,
        multiDigest: `sha256:${sha256(await readFile(unsignedPath))}`,
        rootSha256: v2.rootSha256,
      };
      const badScript = '#!/bin/sh\necho "install: refusing on purpose" >&2\nexit 7\n';
      await writeFile(join(repack, 'install'), badScript, { mode: 0o755 });
      // Signed again (the signature covers the install script), so that it fails at install.
      const mf = await readFile(join(repack, 'rootfs.MF'));
      const statement = rootfsSignedMessage(sha256(mf), sha256(Buffer.from(badScript)));
      const signature = sign(
        null,
        Buffer.from(statement),
        createPrivateKey(await readFile(keys.private_key)),
      );
      const sig = parse(await readFile(join(repack, 'rootfs.MF.sig'), 'utf8')) as Record<string, string>;
      await writeFile(
        join(repack, 'rootfs.MF.sig'),
        stringify({ ...sig, signature: signature.toString('base64') }),
      );
      const badPath = join(work, 'bad-install-rootfs.tgz');
      await pack(badPath, 'rootfs.MF install root.tar rootfs.MF.sig');
      await rm(repack, { recursive: true });
      const bad = await readFile(badPath);
      badInstall = {
        version: '2',
        rootfs: badPath,
        multiDigest: `sha256:${sha256(bad)}`,
        rootSha256: v2.rootSha256,
      };

      blobs = new ReloadBlobServer(join(work, 'blobs'));
      await blobs.start();
      for (const [id, b] of [
        ['rootfs-v1', v1],
        ['rootfs-v2', v2],
        ['rootfs-v9', broken],
        ['rootfs-bad-install', badInstall],
        ['rootfs-unsigned', unsigned],
      ] as const)
        await blobs.putFile(id, b.rootfs);

      nats = await NatsServer.start(AbortSignal.timeout(10_000));
      const config = join(work, 'cpi.json');
      await writeFile(
        config,
        JSON.stringify({
          state_dir: stateDir,
          agent: { mbus: nats.url, blobstore: blobs.blobstoreSettings },
          reload: { max_boot_attempts: MAX_BOOT_ATTEMPTS, commit_deadline_ms: COMMIT_DEADLINE_MS },
        }),
      );
      cpi = { command: cpiBin, args: ['--config', config] };
      nc = await nats.connect();
      bus = new AgentBus(nc);
      heartbeats = new HeartbeatWatch(nc);

      // The IaaS stemcell v1, as the director hands it to the CPI.
      const unpacked = join(work, 'v1-unpacked');
      await mkdir(unpacked);
      await run('tar', ['-xzf', join(work, 'sc-1/stemcell.tgz'), '-C', unpacked]);
      const manifest = StemcellManifest.parse(parse(await readFile(join(unpacked, 'stemcell.MF'), 'utf8')));
      stemcellCid = (await callCpi(cpi, 'create_stemcell', [
        join(unpacked, 'image'),
        manifest.cloud_properties,
      ])) as string;
    });

    after(async () => {
      if (vmCid) await callCpi(cpi, 'delete_vm', [vmCid]).catch(() => undefined);
      if (diskCid) await callCpi(cpi, 'delete_disk', [diskCid]).catch(() => undefined);
      if (stemcellCid) await callCpi(cpi, 'delete_stemcell', [stemcellCid]).catch(() => undefined);
      bus?.close();
      heartbeats?.close();
      await nc?.close();
      await nats?.stop();
      await blobs?.stop();
      await rm(work, { recursive: true, force: true });
      if (Object.keys(figures).length > 0) console.log(`# reload figures (ms): ${JSON.stringify(figures)}`);
    });

    it('runs a VM on v1 with a persistent disk holding data and a running job', async () => {
      const since = performance.now();
      const networks = {
        default: {
          type: 'manual',
          ip: '127.0.1.61',
          netmask: '255.255.255.0',
          cloud_properties: {},
          default: ['dns', 'gateway'],
        },
      };
      vmCid = (
        (await callCpi(cpi, 'create_vm', [agentId, stemcellCid, {}, networks, [], {}])) as [string]
      )[0];
      await heartbeats.next(agentId, since, 30_000);
      diskCid = (await callCpi(cpi, 'create_disk', [64, {}, vmCid])) as string;
      const hint = await callCpi(cpi, 'attach_disk', [vmCid, diskCid]);
      await bus.run(agentId, 'add_persistent_disk', [diskCid, hint], 30_000);
      await bus.run(agentId, 'mount_disk', [diskCid], 30_000);
      const pid = await vmPid();
      await inVm(pid, 'head -c 1048576 /dev/urandom > /var/vcap/store/data.bin && sync');
      dataSum = (await inVm(pid, 'sha256sum /var/vcap/store/data.bin')).split(' ')[0] ?? '';
      assert.match(dataSum, /^[0-9a-f]{64}$/);

      const archive = await tgzOf(tickerFiles(tag));
      await writeFile(join(work, 'templates.tgz'), archive);
      await blobs.putFile(`templates-${tag}`, join(work, 'templates.tgz'));
      const templates = {
        blobstore_id: `templates-${tag}`,
        sha1: createHash('sha1').update(archive).digest('hex'),
      };
      spec = {
        deployment: 'e2e',
        name: 'ticker',
        index: 0,
        id: randomUUID(),
        job: { name: 'ticker', templates: [{ name: 'ticker', version: 'v1', ...templates }] },
        packages: {},
        networks: {
          default: { type: 'manual', ip: '127.0.1.61', netmask: '255.255.255.0', cloud_properties: {} },
        },
        configuration_hash: 'reload-1',
        rendered_templates_archive: templates,
      };
      await startJob();
      const state = await getState();
      assert.equal(state.stemcell?.version, '1');
      assert.equal(state.stemcell?.root_digest, undefined, 'a root the IaaS booted has no recorded digest');
    });
    it('refuses a wrong digest before anything changes; the job keeps running', async () => {
      const [job] = await tickerPids();
      const wrong = `sha256:${'0'.repeat(64)}`;
      await assert.rejects(updateRootfs('rootfs-v2', wrong), (e: Error) => {
        assert.ok(e instanceof AgentException);
        assert.match(e.message, /sha256 is [0-9a-f]{64}, expected 0{64}/);
        return true;
      });
      assert.deepEqual(await stagedRoots(), [], 'nothing unpacked');
      assert.equal(await nextRecordExists(), false, 'the next boot is unchanged');
      assert.deepEqual(await tickerPids(), [job], 'the job was never stopped');
      assert.equal((await getState()).job_state, 'running');
    });

    it('refuses a failing install script; nothing points at the staged root; the job keeps running', async () => {
      const [job] = await tickerPids();
      await assert.rejects(
        updateRootfs('rootfs-bad-install', badInstall.multiDigest),
        /install exited with status 7.*refusing on purpose/,
      );
      assert.deepEqual(await stagedRoots(), [], 'the unpacked root was removed');
      assert.equal(await nextRecordExists(), false);
      assert.deepEqual(await tickerPids(), [job]);
    });

    it('refuses a rootfs not signed by a key the running root trusts; the job keeps running', async () => {
      const [job] = await tickerPids();
      const since = performance.now();
      await assert.rejects(updateRootfs('rootfs-unsigned', unsigned.multiDigest), (e: Error) => {
        assert.ok(e instanceof AgentException);
        assert.match(
          e.message,
          /rootfs.tgz has no rootfs.MF.sig, and this VM's root trusts only signed roots/,
        );
        return true;
      });
      figures['unsigned_refused_ms'] = Math.round(performance.now() - since);
      assert.deepEqual(await stagedRoots(), [], 'the unpacked root was removed');
      assert.equal(await nextRecordExists(), false, 'the next boot is unchanged');
      assert.deepEqual(await tickerPids(), [job]);
    });

    it('falls back to v1 by itself when the staged root never starts its agent', async () => {
      const staged = await updateRootfs('rootfs-v9', broken.multiDigest);
      assert.equal(staged.version, '9');
      const since = performance.now();
      assert.equal(await bus.send(agentId, 'reboot', [], 5000), 'rebooting');
      const back = await waitStemcell('1', since, (COMMIT_DEADLINE_MS + 5000) * MAX_BOOT_ATTEMPTS + 20_000);
      figures['fallback_ms'] = Math.round(back.at - since);
      assert.equal(back.body.stemcell?.root_digest, undefined, 'the stemcell root again');
      const state = await bootState();
      assert.equal(state.pending, null);
      assert.equal(state.abandoned.at(-1)?.version, '9');
      assert.match(
        state.abandoned.at(-1)?.reason ?? '',
        new RegExp(`not committed after ${MAX_BOOT_ATTEMPTS} boot`),
      );
      assert.equal(state.booted?.version, '1');
      assert.equal(state.current.root, null);
      const console_ = await readFile(join(vmDir(), 'console.log'), 'utf8');
      assert.match(
        console_,
        /booted refit-e2e\/9\n[^]*abandoned staged root 9/,
        'the broken root did boot, then was abandoned',
      );
      assert.equal(await callCpi(cpi, 'has_vm', [vmCid]), true);
      assert.equal((await getState()).stemcell?.version, '1');
      await assertDataIntact();
      // What the director does next: apply and start the jobs again.
      await startJob();
    });

    it('survives a SIGKILL of the agent during the download and during unpacking; a retry succeeds', async () => {
      const [job] = await tickerPids();
      for (const phase of ['downloading', 'unpacking'] as const) {
        const requestsBefore = blobs.requests.length;
        // Slow the download so the kill lands inside it (64 KiB per 10 ms: about 8 s for the tarball).
        if (phase === 'downloading') blobs.throttle.set('rootfs-v2', 64 * 1024);
        const killer = (async () => {
          const seen = await waitFor(`update_rootfs in phase ${phase}`, 60_000, () => {
            const p = lastProgress;
            return Promise.resolve(p?.phase === phase && p.bytes_done > 0 ? p : undefined);
          });
          const pid = await agentPid();
          assert.ok(pid, 'the agent process in the VM');
          process.kill(pid, 'SIGKILL');
          return seen;
        })();
        let lastProgress: UpdateRootfsProgress | undefined;
        const staging = updateRootfs('rootfs-v2', v2.multiDigest, (p) => (lastProgress = p));
        const seen = await killer;
        await assert.rejects(staging);
        blobs.throttle.delete('rootfs-v2');
        assert.equal(seen.phase, phase);
        if (phase === 'unpacking') {
          assert.ok(
            blobs.requests.slice(requestsBefore).some((r) => r.id === 'rootfs-v2' && r.status === 206),
            'the download the killed agent left behind was resumed with a Range request',
          );
        }
        await bus.waitForPing(agentId, 20_000);
        assert.equal((await getState()).stemcell?.version, '1', `still on v1 after a kill while ${phase}`);
        assert.equal(await nextRecordExists(), false, 'the next boot is unchanged');
        assert.deepEqual(await tickerPids(), [job], 'the job kept running (adopted by the new agent)');
      }
      // A fresh download, with one broken connection on the way: it resumes with a Range request.
      await rm(join(vmDir(), 'ephemeral/rootfs/downloads'), { recursive: true, force: true });
      const since = performance.now();
      const phases = new Set<string>();
      const rangedBefore = blobs.requests.filter((r) => r.status === 206).length;
      blobs.cutAfter.set('rootfs-v2', 5 * 1024 * 1024);
      const result = await updateRootfs('rootfs-v2', v2.multiDigest, (p) => phases.add(p.phase));
      figures['update_rootfs_ms'] = Math.round(performance.now() - since);
      assert.equal(result.version, '2');
      assert.equal(result.sha256, v2.rootSha256);
      assert.equal(result.staged_root, `/var/vcap/data/rootfs/roots/${v2.rootSha256}`);
      assert.equal(result.already_staged, false);
      assert.ok(
        blobs.requests.filter((r) => r.status === 206).length > rangedBefore,
        'resumed with an HTTP Range',
      );
      assert.ok(phases.has('downloading') && phases.has('unpacking'), [...phases].join(','));
      const roots = await stagedRoots();
      assert.deepEqual(
        roots.filter((r) => r.startsWith('.')),
        [],
        'partial dirs of the killed attempts are gone',
      );
      assert.ok(roots.includes(v2.rootSha256));
      assert.ok(roots.includes(broken.rootSha256), 'the abandoned root stays until the next commit');
      assert.deepEqual(await tickerPids(), [job], 'the job was never stopped');
      const again = await updateRootfs('rootfs-v2', v2.multiDigest);
      assert.equal(again.already_staged, true, 'staging the same version twice is a no-op');
      assert.equal(again.bytes_fetched, 0);
    });
    it('reboots into v2: same CID, v2 reported from the booted root, data identical, root committed', async () => {
      const since = performance.now();
      assert.equal(await bus.send(agentId, 'reboot', [], 5000), 'rebooting');
      const hb = await waitStemcell('2', since, 60_000);
      figures['reboot_to_v2_heartbeat_ms'] = Math.round(hb.at - since);
      assert.equal(hb.body.stemcell?.root_digest, v2.rootSha256);
      const probation = await bootState();
      assert.equal(probation.booted?.kind, 'pending', 'not committed before its jobs run');
      assert.equal(probation.pending?.version, '2');
      // What the director does next (apply, start): the jobs run on v2, and only then the commit.
      await startJob();
      assert.equal(await callCpi(cpi, 'has_vm', [vmCid]), true, 'the VM keeps its CID');
      const state = await getState();
      assert.equal(state.stemcell?.version, '2');
      assert.equal(state.stemcell?.root_digest, v2.rootSha256);
      const pid = await vmPid();
      assert.match(await inVm(pid, 'cat /etc/os-release'), /^VERSION_ID="?2"?$/m, "v2's /etc/os-release");
      assert.equal((await inVm(pid, 'cat /var/vcap/bosh/etc/stemcell_version')).trim(), '2');
      assert.ok(
        (await inVm(pid, `grep -c refit-agent-e2e-v2-${tag} /var/vcap/bosh/lib/refit-agent.mjs`)).trim() ===
          '1',
        "v2's agent build runs",
      );
      await assertDataIntact();
      const committed = await waitFor('the root committed', 20_000, async () => {
        const s = await bootState();
        return s.pending === null && s.current.version === '2' ? s : undefined;
      });
      assert.equal(committed.current.root_archive_sha256, v2.rootSha256);
      assert.equal(committed.previous?.root, null, 'the stemcell root is the previous one');
      assert.ok(committed.committed_at);
      // Collected right after the commit (removing a root tree takes a moment).
      await waitFor('the abandoned root collected after the commit', 20_000, async () =>
        JSON.stringify(await stagedRoots()) === JSON.stringify([v2.rootSha256]) ? true : undefined,
      );
    });

    it('reloads back to v1 through a SIGKILL of the VM supervisor during boot and of the agent before commit', async () => {
      // A reload only moves forward: v1 under v2 is refused unless the director allows it.
      await assert.rejects(updateRootfs('rootfs-v1', v1.multiDigest), /older than the booted stemcell 2/);
      const staged = await updateRootfs('rootfs-v1', v1.multiDigest, undefined, { allow_downgrade: true });
      assert.equal(staged.sha256, v1.rootSha256);
      const statusFile = join(vmDir(), 'status.json');
      const before = JSON.parse(await readFile(statusFile, 'utf8')) as {
        boots: number;
        supervisor: { pid: number };
      };
      assert.equal(await bus.send(agentId, 'reboot', [], 5000), 'rebooting');
      const killedWhile = await waitFor('the supervisor booting', 30_000, async () => {
        const s = JSON.parse(await readFile(statusFile, 'utf8')) as { power: string; boots: number };
        if (s.power !== 'booting' && !(s.power === 'running' && s.boots > before.boots)) return undefined;
        process.kill(before.supervisor.pid, 'SIGKILL');
        return s.power;
      });
      assert.ok(['booting', 'running'].includes(killedWhile));
      console.log(`# the supervisor was SIGKILLed while the VM was ${killedWhile}`);
      const since = performance.now();
      // The director (or the health monitor) finds the VM unresponsive and asks the CPI to reboot it.
      await callCpi(cpi, 'reboot_vm', [vmCid]);
      const pendingAtKill = await waitFor('the new agent process', 30_000, async () => {
        const pid = await agentPid();
        if (pid === undefined) return undefined;
        const s = await bootState();
        process.kill(pid, 'SIGKILL');
        return s.pending !== null;
      });
      assert.equal(pendingAtKill, true, 'the agent was killed before it committed');
      const hb = await waitStemcell('1', since, 60_000);
      assert.equal(hb.body.stemcell?.root_digest, v1.rootSha256, 'v1 booted from the staged root');
      await startJob();
      const committed = await waitFor('the root committed', 20_000, async () => {
        const s = await bootState();
        return s.pending === null && s.current.root_archive_sha256 === v1.rootSha256 ? s : undefined;
      });
      assert.equal(committed.previous?.root_archive_sha256, v2.rootSha256);
      // The agent removes other staged roots after the commit: wait for that, not a fixed time.
      const kept = [v1.rootSha256, v2.rootSha256].sort();
      await waitFor('only the current and previous staged roots', 20_000, async () => {
        const roots = await stagedRoots();
        return JSON.stringify(roots) === JSON.stringify(kept) ? roots : undefined;
      }).catch(() => undefined);
      assert.deepEqual(await stagedRoots(), kept, 'current and previous kept');
      const processes = await hostPidsWith(`${vmDir()}/merged`);
      assert.ok(processes.length <= 1, `one boot of the VM, not two: ${processes.join(',')}`);
      assert.equal(await callCpi(cpi, 'has_vm', [vmCid]), true);
      await assertDataIntact();
      // Rollback to the previous root (v2, kept on the VM with the rootfs.MF, install and
      // rootfs.MF.sig it was staged from): with root.tar's sha256 from the director, nothing is
      // downloaded; the kept signature is verified again and install runs again.
      const rollbackStart = performance.now();
      const back = await updateRootfs('rootfs-v2', v2.multiDigest, undefined, {
        version: '2',
        root_archive_sha256: v2.rootSha256,
      });
      const full = (await stat(v2.rootfs)).size;
      console.log(
        `# rollback to the kept previous root: bytes_fetched ${back.bytes_fetched} (a download: ${full}), update_rootfs ${Math.round(performance.now() - rollbackStart)} ms`,
      );
      assert.equal(back.bytes_fetched, 0);
      assert.equal(back.reused_kept_root, true);
      assert.equal(back.staged_root, `/var/vcap/data/rootfs/roots/${v2.rootSha256}`);
    });
  },
);
