import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError, digestFile, EntryChecker, entryComponents, extractTar, openTar } from '@refit/archive';
import {
  JobManifest,
  MultiDigest,
  ReleaseManifest,
  strongestDigest,
  type ReleaseManifestJob,
  type ReleaseManifestPackage,
} from '@refit/protocol';
import { parseManifest } from '../stemcells/parse-manifest.ts';
import { readSmallBody } from '../stemcells/read-small-body.ts';
import {
  JobDuplicateLinkName,
  JobInvalidArchive,
  JobInvalidLinkSpec,
  JobMissingManifest,
  JobMissingMonit,
  JobMissingPackage,
  JobMissingTemplateFile,
  PackageInvalidArchive,
  ReleaseInvalidArchive,
  ReleaseManifestNotFound,
  ReleaseSha1DoesNotMatch,
  ReleaseVersionInvalid,
} from './release-errors.ts';
import { parseReleaseVersion } from './release-version.ts';

const MANIFEST = 'release.MF';

/** `Extracting release`: the archive unpacked under `dir`, every entry checked first. */
export async function extractRelease(archive: string, dir: string, signal: AbortSignal): Promise<void> {
  try {
    await extractTar(createReadStream(archive), dir, { signal, absoluteSymlinks: 'refuse' });
  } catch (error) {
    if (error instanceof ArchiveError) {
      throw new ReleaseInvalidArchive(`Extracting release archive failed: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A parsed release.MF: `compiled` when it lists `compiled_packages` (a compiled release). */
export interface ReadRelease {
  readonly manifest: ReleaseManifest;
  readonly compiled: boolean;
  readonly packages: readonly ReleaseManifestPackage[];
}

/** `Verifying manifest`: release.MF read and validated (names, version, digests). */
export async function readReleaseManifest(dir: string): Promise<ReadRelease> {
  const file = join(dir, MANIFEST);
  if (!(await isRegularFile(file))) throw new ReleaseManifestNotFound('Release manifest not found');
  const { size } = await lstat(file);
  if (size > 16 * 1024 * 1024) throw new ReleaseInvalidArchive(`${MANIFEST} is larger than 16 MiB`);
  const text = await readFile(file, 'utf8');
  const manifest = parseManifest(ReleaseManifest, text, MANIFEST, (m) => new ReleaseInvalidArchive(m));
  if (parseReleaseVersion(manifest.version) === null) {
    throw new ReleaseVersionInvalid(`Release version invalid: ${manifest.version}`);
  }
  const compiled = manifest.compiled_packages !== null && manifest.compiled_packages !== undefined;
  const packages = (compiled ? manifest.compiled_packages : manifest.packages) ?? [];
  for (const item of [...manifest.jobs, ...packages]) {
    if (!MultiDigest.safeParse(item.sha1).success) {
      throw new ReleaseInvalidArchive(
        `'${item.name}/${item.version}' in ${MANIFEST} has an invalid sha1 '${item.sha1}'`,
      );
    }
  }
  const jobNames = new Set<string>();
  for (const job of manifest.jobs) {
    if (jobNames.has(job.name))
      throw new ReleaseInvalidArchive(`Job '${job.name}' is listed more than once in ${MANIFEST}`);
    jobNames.add(job.name);
  }
  return { manifest, compiled, packages };
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
  } catch {
    return false;
  }
}

/** Checks a file's digest against release.MF's `sha1` (plain sha1 or the strongest of a multi-digest). */
async function checkDigest(
  file: string,
  expectedText: string,
  what: string,
  signal: AbortSignal,
): Promise<void> {
  const expected = strongestDigest(MultiDigest.parse(expectedText));
  const { digests } = await digestFile(file, [expected.algorithm], signal);
  const actual = digests[expected.algorithm] ?? '';
  if (actual !== expected.hex) {
    throw new ReleaseSha1DoesNotMatch(
      `${what} has digest '${expected.algorithm}:${actual}', release.MF says '${expected.algorithm}:${expected.hex}'`,
    );
  }
}

/** `packages/<name>.tgz` or `compiled_packages/<name>.tgz`, or null when it is not in the archive. */
export async function packageArchive(dir: string, compiled: boolean, name: string): Promise<string | null> {
  const file = join(dir, compiled ? 'compiled_packages' : 'packages', `${name}.tgz`);
  return (await isRegularFile(file)) ? file : null;
}

/**
 * A package tarball checked before anything is stored: its digest matches release.MF, and it
 * is a readable tgz whose every entry passes the hostile-entry policy.
 */
export async function verifyPackageArchive(
  file: string,
  meta: ReleaseManifestPackage,
  signal: AbortSignal,
): Promise<void> {
  const what = `Package '${meta.name}/${meta.version}'`;
  await checkDigest(file, meta.sha1, what, signal);
  try {
    const checker = new EntryChecker({ absoluteSymlinks: 'refuse' });
    for await (const entry of openTar(createReadStream(file), { signal })) checker.check(entry.header);
  } catch (error) {
    if (error instanceof ArchiveError) {
      throw new PackageInvalidArchive(`${what} archive is invalid: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * A job tarball checked before anything is stored (BOSH's `ReleaseJob`): its digest, every
 * entry against the hostile-entry policy, `job.MF` present and named like the job, every
 * template file present under `templates/`, a `monit` file (or `*.monit`), links well formed,
 * and every package it names in the release. Returns the parsed job.MF.
 */
export async function verifyJobArchive(options: {
  readonly dir: string;
  readonly meta: ReleaseManifestJob;
  readonly releasePackages: ReadonlySet<string>;
  readonly signal: AbortSignal;
}): Promise<JobManifest> {
  const { meta, signal } = options;
  const name = meta.name;
  const file = join(options.dir, 'jobs', `${name}.tgz`);
  if (!(await isRegularFile(file))) {
    throw new JobInvalidArchive(
      `Job '${name}/${meta.version}' is not in the release archive (jobs/${name}.tgz)`,
    );
  }
  await checkDigest(file, meta.sha1, `Job '${name}/${meta.version}'`, signal);
  const files = new Set<string>();
  let manifestText: string | null = null;
  try {
    const checker = new EntryChecker({ absoluteSymlinks: 'refuse' });
    for await (const entry of openTar(createReadStream(file), { signal })) {
      const checked = checker.check(entry.header);
      if (checked.type !== 'file' && checked.type !== 'contiguous-file') continue;
      files.add(checked.path);
      if (checked.path === 'job.MF') manifestText = await readSmallBody(entry.body, 'job.MF');
    }
  } catch (error) {
    if (error instanceof ArchiveError) {
      throw new JobInvalidArchive(`Job '${name}/${meta.version}' archive is invalid: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (manifestText === null) throw new JobMissingManifest(`Missing job manifest for '${name}'`);
  const spec = parseManifest(
    JobManifest,
    manifestText,
    `job.MF of '${name}'`,
    (m) => new JobInvalidArchive(m),
  );
  if (spec.name !== name) {
    throw new JobInvalidArchive(
      `Inconsistent name for job '${name}' (expected: '${name}', got: '${spec.name}')`,
    );
  }
  for (const source of Object.keys(spec.templates)) {
    let path: string;
    try {
      path = ['templates', ...entryComponents(source)].join('/');
    } catch {
      throw new JobMissingTemplateFile(`Template '${source}' of job '${name}' is not a path inside the job`);
    }
    if (!files.has(path))
      throw new JobMissingTemplateFile(`Missing template file '${source}' for job '${name}'`);
  }
  for (const destination of Object.values(spec.templates)) {
    try {
      if (entryComponents(destination).length === 0) throw new Error('empty');
    } catch {
      throw new JobMissingTemplateFile(
        `Template destination '${destination}' of job '${name}' is not a path inside the job`,
      );
    }
  }
  if (!files.has('monit') && ![...files].some((f) => !f.includes('/') && f.endsWith('.monit'))) {
    throw new JobMissingMonit(`Job '${name}' is missing monit file`);
  }
  checkLinks(name, spec);
  for (const pkg of spec.packages) {
    if (!options.releasePackages.has(pkg)) {
      throw new JobMissingPackage(`Job '${name}' requires package '${pkg}', which is not in the release`);
    }
  }
  return spec;
}

function checkLinks(job: string, spec: JobManifest): void {
  for (const [kind, links] of [
    ['provides', spec.provides],
    ['consumes', spec.consumes],
  ] as const) {
    const seen = new Set<string>();
    for (const link of links) {
      if (kind === 'provides' && link.optional !== undefined) {
        throw new JobInvalidLinkSpec(
          `Link '${link.name}' of type '${link.type}' is a provides link, not allowed to have 'optional' key`,
        );
      }
      if (seen.has(link.name)) {
        throw new JobDuplicateLinkName(
          `Job '${job}' specifies duplicate ${kind} link with name '${link.name}'`,
        );
      }
      seen.add(link.name);
    }
  }
}
