import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadDirectorConfig, parseCommandLine } from './director-config.ts';

describe('director config', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const withFile = async (text: string) => {
    const path = join(dir, 'config.yml');
    await writeFile(path, text);
    return loadDirectorConfig({ stateDir: join(dir, 'state'), configFile: path }, '/repo');
  };

  it('parses the command line', () => {
    assert.deepEqual(parseCommandLine(['--state-dir', 's', '--port', '8443']), { stateDir: 's', port: 8443 });
    assert.deepEqual(parseCommandLine(['--state-dir=s', '--config', 'c.yml']), {
      stateDir: 's',
      configFile: 'c.yml',
    });
    assert.throws(() => parseCommandLine([]), /--state-dir is required/);
    assert.throws(() => parseCommandLine(['--state-dir', 's', '--port', 'x']), /--port/);
    assert.throws(() => parseCommandLine(['--state-dir', 's', '--bogus']), ConfigError);
  });

  it('applies defaults without a file', async () => {
    const config = await loadDirectorConfig({ stateDir: join(dir, 'state') }, '/repo');
    assert.equal(config.port, 25555);
    assert.equal(config.workers, 3);
    assert.equal(config.dbUrl, null);
    assert.equal(config.name, 'refit');
    assert.equal(config.blobstoreDir, join(dir, 'state', 'blobstore'));
    assert.equal(config.cpi.executable, '/repo/packages/testkit/bin/test-cpi');
    assert.deepEqual(config.cpi.args, []);
    assert.equal(config.cpi.generatedConfig, null);
    assert.deepEqual(config.scanAndFix, { autoFixStatefulNodes: false });
    assert.deepEqual(config.orphanedDiskCleanup, { maxOrphanedAgeDays: 5, intervalMs: 1_800_000 });
    assert.deepEqual(config.orphanedVmCleanup, { intervalMs: 300_000 });
    assert.ok(Object.isFrozen(config));
  });

  it('gives the local CPI, when built, a generated config under the state dir', async () => {
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'packages/cpi-local/bin'), { recursive: true });
    await writeFile(join(repo, 'packages/cpi-local/bin/refit-cpi-local'), '');
    const state = join(dir, 'state');
    const config = await loadDirectorConfig({ stateDir: state }, repo);
    assert.equal(config.cpi.name, 'refit-cpi-local');
    assert.deepEqual(config.cpi.args, ['--config', join(state, 'cpi-local', 'cpi.yml')]);
    assert.equal(config.cpi.generatedConfig?.path, join(state, 'cpi-local', 'cpi.yml'));
    assert.match(
      config.cpi.generatedConfig?.text ?? '',
      /^state_dir: ".*\/cpi-local\/state"\nagent:\n {2}mbus: nats:\/\/127\.0\.0\.1:4222\n$/,
    );
  });

  it('reads every key and resolves paths against the file', async () => {
    const config = await withFile(
      'name: d1\nport: 8443\nworkers: 5\nlog_level: debug\ndb: {url: "postgres://x@127.0.0.1/db"}\n' +
        'cpi: {name: local, executable: bin/cpi, args: [-c, x], timeout_seconds: 2.5}\nblobstore: {dir: blobs}\n' +
        'scan_and_fix: {auto_fix_stateful_nodes: true}\n' +
        'disks: {max_orphaned_age_in_days: 2, cleanup_interval_seconds: 60}\n' +
        'vms: {cleanup_interval_seconds: 30}\n',
    );
    assert.deepEqual(
      { ...config, cpi: { ...config.cpi } },
      {
        stateDir: join(dir, 'state'),
        port: 8443,
        name: 'd1',
        workers: 5,
        logLevel: 'debug',
        dbUrl: 'postgres://x@127.0.0.1/db',
        cpi: {
          name: 'local',
          executable: join(dir, 'bin/cpi'),
          args: ['-c', 'x'],
          timeoutMs: 2500,
          generatedConfig: null,
        },
        blobstoreDir: join(dir, 'blobs'),
        scanAndFix: { autoFixStatefulNodes: true },
        orphanedDiskCleanup: { maxOrphanedAgeDays: 2, intervalMs: 60_000 },
        orphanedVmCleanup: { intervalMs: 30_000 },
      },
    );
  });

  it('names the file and the bad key', async () => {
    await assert.rejects(
      withFile('db:\n  url: 5\n'),
      /^ConfigError: config\.yml: db\.url: expected string, received number$/,
    );
    await assert.rejects(withFile('port: "x"\n'), /config\.yml: port: expected number/);
    await assert.rejects(
      withFile('cpi: {executable: x, color: red}\n'),
      /config\.yml: cpi\.color: unknown key/,
    );
    await assert.rejects(withFile('workers: 0\n'), /config\.yml: workers: /);
    await assert.rejects(
      withFile('scan_and_fix: {auto_fix_stateful_nodes: "yes"}\n'),
      /config\.yml: scan_and_fix\.auto_fix_stateful_nodes: expected boolean/,
    );
    await assert.rejects(
      withFile('scan_and_fix: {fix_stateful: true}\n'),
      /config\.yml: scan_and_fix\.fix_stateful: unknown key/,
    );
    await assert.rejects(
      withFile('disks: {max_orphaned_age_in_days: -1}\n'),
      /config\.yml: disks\.max_orphaned_age_in_days: /,
    );
    await assert.rejects(withFile('a: [\n'), /config\.yml: not valid YAML/);
    await assert.rejects(withFile('- 1\n'), /config\.yml: \(top level\): expected object/);
  });

  it('reads rootfs.trusted_keys (PEM text or file), require_signature defaulting to true with keys', async () => {
    const pem = (k: KeyObject) => String(k.export({ type: 'spki', format: 'pem' }));
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'b.pub.pem'), pem(b.publicKey));
    const config = await withFile(
      `rootfs:\n  trusted_keys:\n    - ${JSON.stringify(pem(a.publicKey))}\n    - b.pub.pem\n`,
    );
    assert.deepEqual(config.rootfs, {
      trustedKeys: [pem(a.publicKey), pem(b.publicKey)],
      requireSignature: true,
    });
    const optional = await withFile(`rootfs: {trusted_keys: [b.pub.pem], require_signature: false}\n`);
    assert.equal(optional.rootfs?.requireSignature, false);
    assert.equal((await withFile('name: x\n')).rootfs, undefined, 'no key: digests only');
    await assert.rejects(
      withFile('rootfs: {require_signature: true}\n'),
      /config\.yml: rootfs\.require_signature: needs rootfs\.trusted_keys/,
    );
    await assert.rejects(
      withFile('rootfs: {trusted_keys: [absent.pem]}\n'),
      /rootfs\.trusted_keys\.0: cannot read 'absent\.pem'/,
    );
    await writeFile(join(dir, 'a.key.pem'), a.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(
      withFile('rootfs: {trusted_keys: [a.key.pem]}\n'),
      /rootfs\.trusted_keys\.0: is a private key/,
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'ec.pem'), pem(ec.publicKey));
    await assert.rejects(
      withFile('rootfs: {trusted_keys: [ec.pem]}\n'),
      /rootfs\.trusted_keys\.0: an Ed25519 public key is required/,
    );
    await assert.rejects(withFile('rootfs: {trusted: []}\n'), /rootfs\.trusted: unknown key/);
  });
});
