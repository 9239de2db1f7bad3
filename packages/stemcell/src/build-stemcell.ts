import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KeyObject } from 'node:crypto';
import { ROOTFS_SIGNATURE_FILE, RootfsManifest, StemcellManifest } from '@refit/protocol';
import { bundleAgent } from './agent-bundle.ts';
import type { StreamDigests } from './digest-sink.ts';
import { gzipFile, writeGzipTarball } from './gzip-tarball.ts';
import { installScript } from './install-script.ts';
import { minimalBase, type MinimalBaseSources } from './minimal-base.ts';
import { refitLayer } from './refit-layer.ts';
import { mergeLayers, type RootEntry } from './root-entry.ts';
import { writeRootTar } from './root-tar.ts';
import {
  keyFingerprint,
  readSigningKey,
  readTrustKey,
  signatureFile,
  trustedKeysLayer,
} from './rootfs-signing.ts';
import { scanTree } from './scan-tree.ts';
import { versionLayer, type StemcellIdentity } from './version-layer.ts';

/** The stemcell format refit-cpi-local's `info` reports and its create_stemcell accepts. */
export const LOCAL_STEMCELL_FORMAT = 'refit-local-tgz';
export const STEMCELL_FILE = 'stemcell.tgz';
export const ROOTFS_FILE = 'rootfs.tgz';
export const DIGESTS_FILE = 'digests.json';

export type RootSource =
  { readonly kind: 'tree'; readonly path: string } | ({ readonly kind: 'minimal' } & MinimalBaseSources);

export interface BuildOptions extends StemcellIdentity {
  readonly outDir: string;
  readonly root: RootSource;
  /** The agent's entry point (packages/agent/src/main.ts), bundled into the root. */
  readonly agentEntry: string;
  /** The agent's heartbeat interval in the VM (`--heartbeat-interval`; BOSH's agents: 30 s). */
  readonly heartbeatSeconds?: number;
  readonly stemcellFormat: string;
  readonly compressionLevel: number;
  /** Every mtime in every archive, so the same inputs give the same bytes. */
  readonly mtime: Date;
  /** An Ed25519 private key (PEM file): rootfs.tgz then carries rootfs.MF.sig. */
  readonly signingKey?: string;
  /** Public keys (PEM files) the built root trusts for its next reload (baked into the root). */
  readonly trustKeys?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface ArtifactDigests extends StreamDigests {
  readonly path: string;
}

export interface BuildResult {
  readonly name: string;
  readonly version: string;
  readonly operating_system: string;
  readonly stemcell: ArtifactDigests;
  readonly rootfs: ArtifactDigests;
  readonly image: StreamDigests;
  readonly root_archive: StreamDigests;
  readonly entries: number;
  /** The fingerprint of the key that signed rootfs.MF (only with a signing key). */
  readonly rootfs_signed_by?: string;
  /** The fingerprints of the keys baked into the root (only when there are any). */
  readonly trusted_keys?: readonly string[];
}

type TrustKey = { fingerprint: string; pem: string };

async function rootEntries(
  options: BuildOptions,
  workDir: string,
  trustKeys: readonly TrustKey[],
): Promise<RootEntry[]> {
  const agent = await bundleAgent(options.agentEntry, workDir);
  const refit = refitLayer({ bundleFile: agent.file, size: agent.size }, options.heartbeatSeconds);
  const trusted = trustedKeysLayer(trustKeys);
  if (options.root.kind === 'minimal') {
    const base = await minimalBase(options.root);
    return mergeLayers(base, refit, versionLayer(options, { osRelease: true }), trusted);
  }
  // A given tree keeps its own /etc/os-release (its OS's identity); the stemcell files say what
  // booted.
  const tree = await scanTree(options.root.path, options.signal);
  return mergeLayers(tree, refit, versionLayer(options, { osRelease: false }), trusted);
}

function stemcellManifest(options: BuildOptions, imageSha1: string): string {
  const manifest = {
    name: options.name,
    version: options.version,
    operating_system: options.operatingSystem,
    sha1: imageSha1,
    api_version: 3,
    stemcell_formats: [options.stemcellFormat],
    cloud_properties: {
      name: options.name,
      version: options.version,
      infrastructure: 'refit-local',
      architecture: 'x86_64',
      root_format: 'tgz',
      init: '/sbin/refit-init',
    },
  };
  StemcellManifest.parse(manifest);
  return stringify(manifest);
}

function rootfsManifest(options: BuildOptions, root: StreamDigests): string {
  const manifest = RootfsManifest.parse({
    name: options.name,
    version: options.version,
    operating_system: options.operatingSystem,
    api_version: 1,
    root_archive: { path: 'root.tar', sha256: root.sha256, size: root.size },
    install: 'install',
  });
  return stringify(manifest);
}

/**
 * Builds both artifacts of one stemcell version from one root tree: the IaaS stemcell tarball for
 * refit-cpi-local (stemcell.MF + image, the image being the root tree as a tgz) and the generic
 * stemcell rootfs.tgz (rootfs.MF + root.tar + install). Everything is streamed through files;
 * the work directory is removed whatever happens, and the outputs appear only when complete.
 */
export async function buildStemcell(options: BuildOptions): Promise<BuildResult> {
  // The keys first: a bad key path fails the build before any work.
  const signingKey: KeyObject | null =
    options.signingKey === undefined ? null : await readSigningKey(options.signingKey);
  const trustKeys: TrustKey[] = [];
  for (const file of options.trustKeys ?? []) {
    const key = await readTrustKey(file);
    if (!trustKeys.some((k) => k.fingerprint === key.fingerprint)) trustKeys.push(key);
  }
  await mkdir(options.outDir, { recursive: true });
  const workDir = await mkdtemp(join(options.outDir, '.build-'));
  try {
    const entries = await rootEntries(options, workDir, trustKeys);
    const rootTar = join(workDir, 'root.tar');
    const archive = { mtime: options.mtime, ...(options.signal ? { signal: options.signal } : {}) };
    const root = await writeRootTar(entries, rootTar, archive);
    const gzip = { ...archive, level: options.compressionLevel };
    const rootfsMf = rootfsManifest(options, root);
    const install = installScript({ ...options, rootArchiveSha256: root.sha256 });

    const imageFile = join(workDir, 'image');
    const stemcellTmp = join(workDir, STEMCELL_FILE);
    const rootfsTmp = join(workDir, ROOTFS_FILE);
    // The two compressions are independent; zlib runs them on separate threads.
    const [stemcell, rootfs, image] = await Promise.all([
      (async () => {
        const image = await gzipFile(rootTar, imageFile, gzip);
        const digests = await writeGzipTarball(
          [
            { name: 'stemcell.MF', mode: 0o644, text: stemcellManifest(options, image.sha1) },
            { name: 'image', mode: 0o644, hostFile: imageFile },
          ],
          stemcellTmp,
          { ...gzip, level: Math.min(gzip.level, 1) }, // the image is compressed already
        );
        return [digests, image] as const;
      })(),
      writeGzipTarball(
        [
          { name: 'rootfs.MF', mode: 0o644, text: rootfsMf },
          {
            name: 'install',
            mode: 0o755,
            text: install,
          },
          { name: 'root.tar', mode: 0o644, hostFile: rootTar },
          // Last, so that agents predating signatures (they stop after root.tar) still stage it.
          ...(signingKey === null
            ? []
            : [
                {
                  name: ROOTFS_SIGNATURE_FILE,
                  mode: 0o644,
                  text: signatureFile(rootfsMf, install, signingKey),
                },
              ]),
        ],
        rootfsTmp,
        gzip,
      ),
    ]).then(([[stemcell, image], rootfs]) => [stemcell, rootfs, image] as const);

    const stemcellPath = join(options.outDir, STEMCELL_FILE);
    const rootfsPath = join(options.outDir, ROOTFS_FILE);
    await rename(stemcellTmp, stemcellPath);
    await rename(rootfsTmp, rootfsPath);
    const result: BuildResult = {
      name: options.name,
      version: options.version,
      operating_system: options.operatingSystem,
      stemcell: { path: stemcellPath, ...stemcell },
      rootfs: { path: rootfsPath, ...rootfs },
      image,
      root_archive: root,
      entries: entries.length,
      ...(signingKey === null ? {} : { rootfs_signed_by: keyFingerprint(signingKey) }),
      ...(trustKeys.length === 0 ? {} : { trusted_keys: trustKeys.map((k) => k.fingerprint) }),
    };
    await writeFile(join(options.outDir, DIGESTS_FILE), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
