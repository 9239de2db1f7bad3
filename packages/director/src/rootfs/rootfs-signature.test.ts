// Signed rootfs uploads in process, against both databases: the rootfs feature built with
// trusted keys, its routes called directly, its tasks run by the real TaskRunner, the real
// LocalDirBlobstore; real Ed25519 keys and real tarballs.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ROOTFS_SIGNATURE_FILE, rootfsSignedMessage, type RootfsListItem } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { silentLog } from '../config/director-log.ts';
import { coreMigration } from '../db/core-migration.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { RootfsSignatureInvalid } from '../errors.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps } from '../feature.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { finishedTask, routeCaller } from '../stemcells/route-calls.test-support.ts';
import { file, saneRoot, sha256, tarOf } from '../stemcells/upload-fixtures.test-support.ts';
import { createRootfsFeature, rootfsTrust } from './index.ts';
import { keyFingerprint } from './rootfs-trust.ts';

const pem = (key: KeyObject) => String(key.export({ type: 'spki', format: 'pem' }));

interface Signed {
  readonly version: string;
  readonly key?: KeyObject;
  /** Changes rootfs.MF after it was signed. */
  readonly tamper?: (mf: Buffer) => Buffer;
  /** Changes rootfs.MF.sig's bytes. */
  readonly mangle?: (sig: Buffer) => Buffer;
  /** Replaces the install script after it was signed. */
  readonly swapInstall?: string;
}

const INSTALL = '#!/bin/sh\nexit 0\n';

/** rootfs.tgz as refit-stemcell writes it: rootfs.MF, install, root.tar, then rootfs.MF.sig. */
async function signedRootfsTgz(options: Signed): Promise<Buffer> {
  const root = await tarOf(saneRoot);
  const mf = Buffer.from(
    stringify({
      name: 'refit-signed',
      version: options.version,
      operating_system: 'ubuntu-noble',
      api_version: 1,
      root_archive: { path: 'root.tar', sha256: sha256(root), size: root.length },
      install: 'install',
    }),
  );
  const entries = [
    file('rootfs.MF', options.tamper ? options.tamper(mf) : mf),
    file('install', options.swapInstall ?? INSTALL, 0o755),
    file('root.tar', root),
  ];
  if (options.key !== undefined) {
    const sig = Buffer.from(
      stringify({
        algorithm: 'ed25519',
        key_fingerprint: keyFingerprint(createPublicKey(options.key)),
        signature: sign(
          null,
          Buffer.from(rootfsSignedMessage(sha256(mf), sha256(INSTALL))),
          options.key,
        ).toString('base64'),
      }),
    );
    entries.push(file(ROOTFS_SIGNATURE_FILE, options.mangle ? options.mangle(sig) : sig));
  }
  return gzipSync(await tarOf(entries));
}

const trusted = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const trustedFingerprint = keyFingerprint(trusted.publicKey);
const otherFingerprint = keyFingerprint(other.publicKey);

for (const backend of testBackends()) {
  describe(`signed rootfs uploads on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let runner: TaskRunner;
    let deps: DirectorDeps;

    beforeEach(async () => {
      t = await backend.create({
        migrations: [coreMigration, stemcellsMigration, ...createRootfsFeature().migrations],
      });
      dir = await mkdtemp(join(tmpdir(), 'refit-rootfs-signed-'));
      runner = new TaskRunner({
        store: new TaskStore(t.db),
        stateDir: dir,
        workers: 2,
        runnerId: 'rootfs-signed-test',
        log: silentLog,
        pollMs: 20,
      });
      const blobstore = new LocalDirBlobstore(join(dir, 'blobs'));
      await blobstore.start();
      deps = {
        db: t.db,
        tasks: runner,
        blobstore,
        cloud: {
          name: 'unused',
          info: () => Promise.reject(new Error('the rootfs feature never calls the CPI')),
          call: () => Promise.reject(new Error('the rootfs feature never calls the CPI')),
        },
        events: new DbEventRecorder(t.db),
        stateDir: dir,
        tmpDir: join(dir, 'tmp'),
        directorUuid: 'uuid',
        directorName: 'test',
      };
    });
    afterEach(async () => {
      await runner.stop(2000);
      await t.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    /** The feature trusting `keys`; answers a function that uploads and waits for the task. */
    async function director(keys: KeyObject[], requireSignature?: boolean) {
      const feature = createRootfsFeature(
        rootfsTrust({
          trustedKeys: keys.map(pem),
          requireSignature: requireSignature ?? keys.length > 0,
        }),
      );
      runner.register(feature.taskHandlers(deps));
      await feature.startup?.(deps);
      const routes: readonly Route[] = feature.routes(deps);
      runner.start();
      const call = routeCaller(routes);
      return {
        upload: async (bytes: Buffer) => finishedTask(runner, await call('POST', '/rootfs', bytes)),
        list: async () => {
          const reply = await call('GET', '/rootfs');
          return reply.kind === 'json' ? (reply.body as RootfsListItem[]) : [];
        },
      };
    }
    const blobs = async () => {
      const ids: string[] = [];
      for await (const id of deps.blobstore.list()) ids.push(id);
      return ids;
    };

    it('stores a rootfs signed by a trusted key and records which key signed it', async () => {
      const d = await director([other.publicKey, trusted.publicKey]);
      const bytes = await signedRootfsTgz({ version: '1', key: trusted.privateKey });
      const task = await d.upload(bytes);
      assert.equal(task.state, 'done', task.result ?? '');
      assert.deepEqual(
        (await d.list()).map((r) => [r.version, r.sha256, r.signed_by]),
        [['1', sha256(bytes), trustedFingerprint]],
      );
      const [event] = await t.db.query<{ context_json: string | null }>(
        "SELECT * FROM events WHERE object_type = 'rootfs' AND action = 'create'",
      );
      assert.match(JSON.stringify(event), new RegExp(`signed_by[^0-9a-f]+${trustedFingerprint}`));
    });

    const refusals: [string, Signed, RegExp][] = [
      [
        'a bit flipped in rootfs.MF',
        {
          version: '2',
          key: trusted.privateKey,
          tamper: (mf) => {
            const copy = Buffer.from(mf);
            const at = copy.indexOf('version: "2"') + 10; // '2' → '3': still a valid manifest
            copy[at] = (copy[at] ?? 0) ^ 0x01;
            return copy;
          },
        },
        new RegExp(
          `^rootfs.MF.sig does not verify: rootfs.MF or install is not what key ${trustedFingerprint} signed$`,
        ),
      ],
      [
        'an install script other than the one signed',
        { version: '2', key: trusted.privateKey, swapInstall: `${INSTALL}# and then some\n` },
        /^rootfs.MF.sig does not verify: rootfs.MF or install is not what key [0-9a-f]{64} signed$/,
      ],
      [
        'a signature by another key',
        { version: '2', key: other.privateKey },
        new RegExp(
          `^rootfs.MF.sig is signed by key ${otherFingerprint}, which this director does not trust \\(${trustedFingerprint}\\)$`,
        ),
      ],
      [
        'a missing signature',
        { version: '2' },
        /^Rootfs archive has no rootfs.MF.sig; this director accepts only rootfs signed by a trusted key/,
      ],
      [
        'a truncated signature',
        { version: '2', key: trusted.privateKey, mangle: (sig) => sig.subarray(0, sig.length - 30) },
        /^rootfs.MF.sig is malformed: signature: must be the base64 of a 64-byte Ed25519 signature$/,
      ],
    ];
    it('refuses a bad, untrusted, missing or truncated signature, leaving nothing behind', async () => {
      const d = await director([trusted.publicKey]);
      for (const [what, options, message] of refusals) {
        const task = await d.upload(await signedRootfsTgz(options));
        assert.equal(task.state, 'error', what);
        // The task result is cut at 100 characters (as BOSH's); the event keeps the whole message.
        const [event] = await t.db.query<{ error: string | null }>(
          "SELECT error FROM events WHERE object_type = 'rootfs' ORDER BY id DESC LIMIT 1",
        );
        assert.match(event?.error ?? '', message, what);
        assert.ok(
          (task.result ?? '').startsWith('rootfs.MF.sig') || (task.result ?? '').startsWith('Rootfs'),
          what,
        );
        assert.deepEqual(await d.list(), [], what);
        assert.deepEqual(await blobs(), [], what);
        assert.deepEqual(await readdir(join(dir, 'tmp', 'rootfs-uploads')), [], what);
        assert.deepEqual(await readdir(join(dir, 'blobs', '.incoming')), [], what);
      }
      const events = await t.db.query<{ error: string | null }>(
        "SELECT error FROM events WHERE object_type = 'rootfs' ORDER BY id",
      );
      assert.equal(events.length, refusals.length);
      assert.ok(events.every((e) => e.error !== null));
      assert.equal(RootfsSignatureInvalid.code, 51006);
    });

    it('accepts an unsigned rootfs when signatures are not required, and any without keys', async () => {
      const optional = await director([trusted.publicKey], false);
      assert.equal((await optional.upload(await signedRootfsTgz({ version: '3' }))).state, 'done');
      const refused = await optional.upload(await signedRootfsTgz({ version: '4', key: other.privateKey }));
      assert.equal(refused.state, 'error', 'a signature is still checked when present');
      const [unsigned] = await optional.list();
      assert.equal(unsigned?.version, '3');
      assert.equal('signed_by' in (unsigned ?? {}), false, 'an unsigned rootfs lists no signer');
    });
  });
}
