// Signed generic stemcells across the chain, without VMs: refit-stemcell's keygen and build
// (real keys, real tarballs, the key baked at its real in-root path) → the director's upload
// check → the agent's staging on a base dir holding a root built with --trust-key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { AgentErrorCode } from '@refit/agent/errors.ts';
import { rootfsPaths } from '@refit/agent/rootfs/boot-state.ts';
import { stageRootfs } from '@refit/agent/rootfs/stage-rootfs.ts';
import { LocalDirBlobstore } from '@refit/director/blobstore/local-dir-blobstore.ts';
import { RootfsSignatureInvalid } from '@refit/director/errors.ts';
import { readRootfsManifestText, verifyAndStoreRootfs } from '@refit/director/rootfs/check-rootfs-archive.ts';
import { rootfsTrust } from '@refit/director/rootfs/rootfs-trust.ts';
import { startUploadLab } from '@refit/director/stemcells/director-process.test-support.ts';
import type { RootfsListItem } from '@refit/protocol';
import { parse, stringify } from 'yaml';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const fakeAgent = join(repo, 'packages/stemcell/src/fixtures/fake-agent.ts');

interface Keys {
  readonly private_key: string;
  readonly public_key: string;
  readonly key_fingerprint: string;
}

describe('signed rootfs: builder → director → agent', () => {
  let work: string;
  let signer: Keys;
  let stranger: Keys;
  const built = new Map<string, string>();

  async function build(version: string, extra: string[]): Promise<string> {
    const out = join(work, `out-${version}`);
    const { stdout } = await run(stemcellBin, [
      'build',
      ...['--name', 'chain', '--version', version, '--os', 'refit-test', '--out', out],
      ...['--root', join(work, 'tree'), '--agent-entry', fakeAgent, ...extra],
    ]);
    return (JSON.parse(stdout) as { rootfs: { path: string } }).rootfs.path;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'rootfs-signing-chain-'));
    await mkdir(join(work, 'tree/etc'), { recursive: true });
    await writeFile(join(work, 'tree/etc/motd'), 'chain\n');
    signer = JSON.parse((await run(stemcellBin, ['keygen', '--out', join(work, 'signer')])).stdout) as Keys;
    stranger = JSON.parse(
      (await run(stemcellBin, ['keygen', '--out', join(work, 'stranger')])).stdout,
    ) as Keys;
    const [running, signed, foreign, unsigned] = await Promise.all([
      build('1', ['--trust-key', signer.public_key]),
      build('2', ['--signing-key', signer.private_key]),
      build('3', ['--signing-key', stranger.private_key]),
      build('4', []),
    ]);
    built.set('running', running).set('signed', signed).set('foreign', foreign).set('unsigned', unsigned);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('the director stores what the trusted key signed and refuses the rest, keeping nothing', async () => {
    const blobstore = new LocalDirBlobstore(join(work, 'director-blobs'));
    await blobstore.start();
    const trust = rootfsTrust({
      trustedKeys: [await readFile(signer.public_key, 'utf8')],
      requireSignature: true,
    });
    const upload = async (archive: string) => {
      const signal = AbortSignal.timeout(30_000);
      const { manifest, text } = await readRootfsManifestText(archive, signal);
      return verifyAndStoreRootfs({
        archive,
        manifest,
        blobstore,
        signal,
        isReferenced: () => Promise.resolve(false),
        signature: { manifestText: text, trust },
      });
    };
    const stored = await upload(built.get('signed') ?? '');
    assert.equal(stored.signedBy, signer.key_fingerprint);
    await blobstore.delete(stored.id);
    await assert.rejects(
      upload(built.get('foreign') ?? ''),
      (e: unknown) => e instanceof RootfsSignatureInvalid && e.message.includes(stranger.key_fingerprint),
    );
    await assert.rejects(upload(built.get('unsigned') ?? ''), /has no rootfs.MF.sig/);
    const left: string[] = [];
    for await (const id of blobstore.list()) left.push(id);
    assert.deepEqual(left, []);
  });

  it('the director process honours config rootfs.trusted_keys (GET /rootfs names the signer)', async () => {
    const lab = await startUploadLab({ backend: 'sqlite' });
    try {
      const configFile = join(lab.dir, 'director.yml');
      const config = parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
      await writeFile(configFile, stringify({ ...config, rootfs: { trusted_keys: [signer.public_key] } }));
      await lab.restart();
      const upload = async (which: string) => {
        const reply = await lab.director.request('POST', '/rootfs', {
          headers: { 'content-type': 'application/x-compressed' },
          body: await readFile(built.get(which) ?? ''),
        });
        return lab.director.waitTask(lab.director.taskOf(reply));
      };
      assert.equal((await upload('signed')).state, 'done');
      const refused = await upload('unsigned');
      assert.equal(refused.state, 'error');
      assert.match(refused.result ?? '', /^Rootfs archive has no rootfs.MF.sig/);
      const list = (await lab.director.request('GET', '/rootfs')).json<RootfsListItem[]>();
      assert.deepEqual(
        list.map((r) => [r.version, r.signed_by]),
        [['2', signer.key_fingerprint]],
      );
      assert.deepEqual(await lab.scratchLeftovers(), []);
    } finally {
      await lab.cleanup();
    }
  });

  it('an agent running a root built with --trust-key stages only what that key signed', async () => {
    // The running root: v1's root tree, with the signer's key baked in by the builder.
    const base = join(work, 'vm');
    await mkdir(base);
    await run('sh', [
      '-c',
      'tar -xzOf "$1" root.tar | tar -xf - -C "$2"',
      'sh',
      built.get('running') ?? '',
      base,
    ]);
    assert.deepEqual(await readdir(join(base, 'var/vcap/bosh/etc/rootfs-trusted-keys')), [
      `${signer.key_fingerprint}.pem`,
    ]);
    const blobs = join(work, 'agent-blobs');
    await mkdir(blobs);
    const stage = async (which: string) => {
      const bytes = await readFile(built.get(which) ?? '');
      await writeFile(join(blobs, which), bytes);
      return stageRootfs({
        blobstoreId: which,
        digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        blobstore: { provider: 'local', options: { blobstore_path: blobs } },
        paths: rootfsPaths(base),
        installTimeoutMs: 30_000,
        report: () => undefined,
        signal: AbortSignal.timeout(30_000),
      });
    };
    const code = (expected: string, message: RegExp) => (e: Error & { code?: string }) => {
      assert.equal(e.code, expected, e.message);
      assert.match(e.message, message);
      return true;
    };
    // Signed by the trusted key: the signature passes and staging reaches the tarball's install
    // script, which (outside a VM) cannot find the root at its in-VM path and stops there.
    await assert.rejects(
      stage('signed'),
      code(AgentErrorCode.ScriptFailed, /does not hold an unpacked refit root/),
    );
    await assert.rejects(
      stage('foreign'),
      code(AgentErrorCode.UntrustedRootfs, new RegExp(`by key ${stranger.key_fingerprint}`)),
    );
    await assert.rejects(stage('unsigned'), code(AgentErrorCode.UntrustedRootfs, /has no rootfs.MF.sig/));
    assert.deepEqual(await readdir(rootfsPaths(base).roots), [], 'no root left behind');
  });
});
