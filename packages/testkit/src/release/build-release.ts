// Builds real BOSH-format release tarballs for tests: release.MF, jobs/<name>.tgz (job.MF,
// monit, templates/), packages/<name>.tgz (packaging + files) or compiled_packages/<name>.tgz,
// with digests and fingerprints computed as a release author's tools would. Everything is
// deterministic (fixed mtimes), so the same definition gives the same bytes.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { stringify } from 'yaml';

export interface ReleaseTarEntry {
  readonly header: Partial<tar.Header> & Pick<tar.Header, 'name'>;
  readonly content?: Buffer | string;
}

export interface JobDefinition {
  readonly name: string;
  readonly version?: string;
  /** Template source (under `templates/`) → content. */
  readonly templates?: Readonly<Record<string, string>>;
  /** Template source → destination; default: `templates` keys mapped to themselves. */
  readonly destinations?: Readonly<Record<string, string>>;
  readonly packages?: readonly string[];
  readonly properties?: Readonly<Record<string, { description?: string; default?: unknown }>>;
  readonly consumes?: readonly Record<string, unknown>[];
  readonly provides?: readonly Record<string, unknown>[];
  /** The `monit` file; null leaves it out. */
  readonly monit?: string | null;
  /** Replaces job.MF entirely (text as is, or an object as YAML); null leaves it out. */
  readonly manifest?: string | Record<string, unknown> | null;
  readonly extra?: readonly ReleaseTarEntry[];
}

export interface PackageDefinition {
  readonly name: string;
  readonly version?: string;
  readonly dependencies?: readonly string[];
  /** Files of the package (source files, or the compiled tree for a compiled release). */
  readonly files?: Readonly<Record<string, string>>;
  readonly packaging?: string;
  readonly extra?: readonly ReleaseTarEntry[];
}

export interface ReleaseDefinition {
  readonly name: string;
  readonly version: string;
  readonly commitHash?: string;
  readonly uncommittedChanges?: boolean;
  readonly jobs?: readonly JobDefinition[];
  readonly packages?: readonly PackageDefinition[];
  /** Makes a compiled release: packages go to compiled_packages/ for this `<os>/<version>`. */
  readonly compiledFor?: string;
  /** `sha1` (default: plain hex as BOSH writes it) or `sha256` (`sha256:<hex>` multi-digest). */
  readonly digest?: 'sha1' | 'sha256';
  /** Package tarballs left out of the archive (as the CLI does for `/packages/matches` hits). */
  readonly omitPackageArchives?: readonly string[];
  /** Jobs/packages whose release.MF digest is made wrong. */
  readonly wrongDigestFor?: readonly string[];
  /** Changes release.MF after it is computed. */
  readonly editManifest?: (manifest: Record<string, unknown>) => Record<string, unknown>;
  /** Extra entries in the release tarball itself. */
  readonly extra?: readonly ReleaseTarEntry[];
}

export interface BuiltRelease {
  readonly tarball: Buffer;
  /** release.MF as written. */
  readonly manifest: Record<string, unknown>;
  readonly manifestText: string;
  readonly jobs: ReadonlyMap<string, { tgz: Buffer; fingerprint: string; version: string }>;
  readonly packages: ReadonlyMap<string, { tgz: Buffer; fingerprint: string; version: string }>;
}

const MTIME = new Date('2024-01-01T00:00:00Z');

export const sha1Hex = (data: Buffer | string) => createHash('sha1').update(data).digest('hex');
export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A plain tar of the entries (directories, files, links…), mtimes fixed. */
export async function tarOfEntries(entries: readonly ReleaseTarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const content = entry.content === undefined ? undefined : Buffer.from(entry.content);
    await new Promise<void>((resolve, reject) => {
      const header = {
        mode: 0o644,
        mtime: MTIME,
        ...entry.header,
        ...(content ? { size: content.length } : {}),
      } as tar.Header;
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content) pack.entry(header, content, callback);
      else pack.entry(header, callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const tgzOf = async (entries: readonly ReleaseTarEntry[]) => gzipSync(await tarOfEntries(entries));
const fileEntry = (name: string, content: string | Buffer, mode = 0o644): ReleaseTarEntry => ({
  header: { name, type: 'file', mode },
  content,
});

function fingerprintOf(parts: readonly (readonly [string, string])[]): string {
  const hash = createHash('sha1');
  for (const [name, content] of [...parts].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${name}\0${sha1Hex(content)}\0`);
  }
  return hash.digest('hex');
}

export async function buildJobTgz(job: JobDefinition): Promise<{ tgz: Buffer; fingerprint: string }> {
  const templates = job.templates ?? {};
  const destinations = job.destinations ?? Object.fromEntries(Object.keys(templates).map((k) => [k, k]));
  const spec =
    job.manifest === undefined
      ? stringify({
          name: job.name,
          templates: destinations,
          packages: job.packages ?? [],
          properties: job.properties ?? {},
          ...(job.consumes ? { consumes: job.consumes } : {}),
          ...(job.provides ? { provides: job.provides } : {}),
        })
      : job.manifest === null
        ? null
        : typeof job.manifest === 'string'
          ? job.manifest
          : stringify(job.manifest);
  const monit =
    job.monit === undefined
      ? `check process ${job.name}\n  with pidfile /var/vcap/sys/run/${job.name}/pid\n`
      : job.monit;
  const entries: ReleaseTarEntry[] = [];
  const parts: [string, string][] = [];
  if (spec !== null) {
    entries.push(fileEntry('./job.MF', spec));
    parts.push(['job.MF', spec]);
  }
  if (monit !== null) {
    entries.push(fileEntry('./monit', monit));
    parts.push(['monit', monit]);
  }
  if (Object.keys(templates).length > 0)
    entries.push({ header: { name: './templates/', type: 'directory', mode: 0o755 } });
  for (const [source, content] of Object.entries(templates)) {
    entries.push(fileEntry(`./templates/${source}`, content));
    parts.push([`templates/${source}`, content]);
  }
  entries.push(...(job.extra ?? []));
  return { tgz: await tgzOf(entries), fingerprint: fingerprintOf(parts) };
}

export async function buildPackageTgz(
  pkg: PackageDefinition,
  compiled: boolean,
): Promise<{ tgz: Buffer; fingerprint: string }> {
  const files = pkg.files ?? { [`${pkg.name}.txt`]: `contents of ${pkg.name}\n` };
  const packaging = pkg.packaging ?? `set -e\ncp -a . "\${BOSH_INSTALL_TARGET}"\n`;
  const entries: ReleaseTarEntry[] = [];
  const parts: [string, string][] = [
    ['packaging', packaging],
    ['dependencies', (pkg.dependencies ?? []).join(',')],
  ];
  if (!compiled) entries.push(fileEntry('./packaging', packaging, 0o755));
  for (const [path, content] of Object.entries(files)) {
    entries.push(fileEntry(`./${path}`, content));
    parts.push([path, content]);
  }
  entries.push(...(pkg.extra ?? []));
  return { tgz: await tgzOf(entries), fingerprint: fingerprintOf(parts) };
}

/** A release tarball as `bosh create-release --tarball` makes it. */
export async function buildRelease(definition: ReleaseDefinition): Promise<BuiltRelease> {
  const compiled = definition.compiledFor !== undefined;
  const digestOf = (data: Buffer, name: string) => {
    const wrong = definition.wrongDigestFor?.includes(name) ?? false;
    const bytes = wrong ? Buffer.concat([data, Buffer.from('tampered')]) : data;
    return definition.digest === 'sha256' ? `sha256:${sha256Hex(bytes)}` : sha1Hex(bytes);
  };
  const jobs = new Map<string, { tgz: Buffer; fingerprint: string; version: string }>();
  for (const job of definition.jobs ?? []) {
    const built = await buildJobTgz(job);
    jobs.set(job.name, { ...built, version: job.version ?? built.fingerprint });
  }
  const packages = new Map<string, { tgz: Buffer; fingerprint: string; version: string }>();
  for (const pkg of definition.packages ?? []) {
    const built = await buildPackageTgz(pkg, compiled);
    packages.set(pkg.name, { ...built, version: pkg.version ?? built.fingerprint });
  }
  const packageList = (definition.packages ?? []).map((pkg) => {
    const built = packages.get(pkg.name);
    if (!built) throw new Error(`package ${pkg.name} was not built`);
    return {
      name: pkg.name,
      version: built.version,
      fingerprint: built.fingerprint,
      sha1: digestOf(built.tgz, pkg.name),
      dependencies: [...(pkg.dependencies ?? [])],
      ...(compiled ? { stemcell: definition.compiledFor } : {}),
    };
  });
  let manifest: Record<string, unknown> = {
    name: definition.name,
    version: definition.version,
    commit_hash: definition.commitHash ?? 'abcdef12',
    uncommitted_changes: definition.uncommittedChanges ?? false,
    jobs: (definition.jobs ?? []).map((job) => {
      const built = jobs.get(job.name);
      if (!built) throw new Error(`job ${job.name} was not built`);
      return {
        name: job.name,
        version: built.version,
        fingerprint: built.fingerprint,
        sha1: digestOf(built.tgz, job.name),
        packages: [...(job.packages ?? [])],
      };
    }),
    ...(compiled ? { compiled_packages: packageList } : { packages: packageList }),
    license: null,
  };
  if (definition.editManifest) manifest = definition.editManifest(manifest);
  const manifestText = stringify(manifest);
  const entries: ReleaseTarEntry[] = [fileEntry('./release.MF', manifestText)];
  entries.push({ header: { name: './jobs/', type: 'directory', mode: 0o755 } });
  for (const [name, built] of jobs) entries.push(fileEntry(`./jobs/${name}.tgz`, built.tgz));
  const folder = compiled ? 'compiled_packages' : 'packages';
  entries.push({ header: { name: `./${folder}/`, type: 'directory', mode: 0o755 } });
  for (const [name, built] of packages) {
    if (definition.omitPackageArchives?.includes(name)) continue;
    entries.push(fileEntry(`./${folder}/${name}.tgz`, built.tgz));
  }
  entries.push(...(definition.extra ?? []));
  return { tarball: await tgzOf(entries), manifest, manifestText, jobs, packages };
}
