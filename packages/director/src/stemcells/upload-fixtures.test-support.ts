// Small stemcell and rootfs tarballs built in memory for the director's upload tests
// (a few KB each), including hostile ones. Used by the unit tests beside it and by
// tests/e2e/director-{stemcells,rootfs}-*.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { stringify } from 'yaml';

export interface TarEntry {
  readonly header: Partial<tar.Header> & Pick<tar.Header, 'name'>;
  readonly content?: Buffer | string;
}

/** A plain tar of the given entries. */
export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const content = entry.content === undefined ? undefined : Buffer.from(entry.content);
    await new Promise<void>((resolve, reject) => {
      const header = { ...entry.header, ...(content ? { size: content.length } : {}) } as tar.Header;
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content) pack.entry(header, content, callback);
      else pack.entry(header, callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const file = (name: string, content: Buffer | string, mode = 0o644): TarEntry => ({
  header: { name, type: 'file', mode },
  content,
});

export const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest('hex');
export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export interface StemcellOptions {
  readonly name?: string;
  readonly version?: string;
  /** Replaces the whole manifest (text as is, or an object serialised to YAML). */
  readonly manifest?: string | Record<string, unknown>;
  readonly image?: Buffer | string | null;
  readonly formats?: readonly string[];
  readonly extra?: readonly TarEntry[];
  readonly withoutManifest?: boolean;
}

export function stemcellManifest(options: StemcellOptions = {}): Record<string, unknown> {
  return {
    name: options.name ?? 'bosh-test-stemcell',
    version: options.version ?? '1.0',
    operating_system: 'ubuntu-noble',
    sha1: sha1(imageOf(options)),
    api_version: 3,
    stemcell_formats: options.formats ?? ['general-tar'],
    cloud_properties: { infrastructure: 'test' },
  };
}

function imageOf(options: StemcellOptions): Buffer {
  return Buffer.from(options.image ?? 'a tiny image\n'.repeat(100));
}

/** A gzip stemcell tarball: stemcell.MF + image (+ extra entries). */
export async function stemcellTgz(options: StemcellOptions = {}): Promise<Buffer> {
  const entries: TarEntry[] = [];
  if (!options.withoutManifest) {
    const manifest = options.manifest ?? stemcellManifest(options);
    entries.push(file('stemcell.MF', typeof manifest === 'string' ? manifest : stringify(manifest)));
  }
  if (options.image !== null) entries.push(file('image', imageOf(options)));
  entries.push(...(options.extra ?? []));
  return gzipSync(await tarOf(entries));
}

export interface RootfsOptions {
  readonly name?: string;
  readonly version?: string;
  readonly operatingSystem?: string;
  /** Entries of the root tree archive (root.tar); a small sane tree by default. */
  readonly root?: readonly TarEntry[];
  /** Overrides merged into rootfs.MF (null removes a key). */
  readonly manifest?: Record<string, unknown>;
  readonly manifestText?: string;
  readonly install?: TarEntry | null;
  readonly withoutManifest?: boolean;
}

export const saneRoot: readonly TarEntry[] = [
  { header: { name: 'etc/', type: 'directory', mode: 0o755 } },
  file('etc/os-release', 'ID=refit\n'),
  { header: { name: 'bin/', type: 'directory', mode: 0o755 } },
  { header: { name: 'bin/sh', type: 'symlink', linkname: 'busybox' } },
  file('bin/busybox', 'not really busybox', 0o755),
  { header: { name: 'dev/', type: 'directory', mode: 0o755 } },
  { header: { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 } },
  { header: { name: 'usr/lib/libc.so', type: 'symlink', linkname: '../../lib/libc.so.6' } },
];

/** A gzip generic stemcell: rootfs.MF, install, root.tar (in the order refit-stemcell writes). */
export async function rootfsTgz(options: RootfsOptions = {}): Promise<Buffer> {
  const root = await tarOf(options.root ?? saneRoot);
  const manifest: Record<string, unknown> = {
    name: options.name ?? 'refit-generic-noble',
    version: options.version ?? '1.0',
    operating_system: options.operatingSystem ?? 'ubuntu-noble',
    api_version: 3,
    root_archive: { path: 'root.tar', sha256: sha256(root), size: root.length },
    install: 'install',
  };
  for (const [key, value] of Object.entries(options.manifest ?? {})) {
    if (value === null) delete manifest[key];
    else manifest[key] = value;
  }
  const entries: TarEntry[] = [];
  if (!options.withoutManifest) entries.push(file('rootfs.MF', options.manifestText ?? stringify(manifest)));
  if (options.install !== null)
    entries.push(options.install ?? file('install', '#!/bin/sh\nexit 0\n', 0o755));
  entries.push(file('root.tar', root));
  return gzipSync(await tarOf(entries));
}
