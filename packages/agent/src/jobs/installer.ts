import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, symlink, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApplySpec, ApplySpecPackage, BlobRef } from '@refit/protocol';
import { extractTgz } from '../archive/tgz.ts';
import type { AgentBlobstore } from '../blobstore/agent-blobstore.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { AgentPaths } from '../paths.ts';
import { specJobs } from '../spec-store.ts';

function plainName(kind: string, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) {
    throw new AgentError(AgentErrorCode.InvalidArguments, `${kind} name '${name}' is not a plain name`);
  }
  return name;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Moves a finished install into place; a concurrent prepare that got there first wins. */
async function renameUnlessPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(to))) return;
    throw error;
  }
}

/** Points `link` at `target`, replacing what was there in one rename. */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  try {
    if ((await readlink(link)) === target) return;
  } catch {
    /* absent or not a link */
  }
  const tmp = `${link}.${randomUUID()}.tmp`;
  await symlink(target, tmp);
  await rename(tmp, link);
}

export function blobOf(ref: BlobRef): {
  blobstoreId: string;
  digest: string;
  signedUrl?: string;
  headers?: Record<string, string>;
} {
  return {
    blobstoreId: ref.blobstore_id,
    digest: ref.sha1,
    ...(ref.signed_url === undefined ? {} : { signedUrl: ref.signed_url }),
    ...(ref.blobstore_headers === undefined ? {} : { headers: ref.blobstore_headers }),
  };
}

/**
 * Installs what an apply spec names under /var/vcap/data and links it under /var/vcap/{jobs,
 * packages}. Every blob is verified before anything is unpacked; installs land in a temporary
 * directory and are renamed into place, so a half-unpacked tree is never visible.
 */
export class JobInstaller {
  readonly #paths: AgentPaths;
  readonly #blobstore: AgentBlobstore;

  constructor(paths: AgentPaths, blobstore: AgentBlobstore) {
    this.#paths = paths;
    this.#blobstore = blobstore;
  }

  packageDir(pkg: Pick<ApplySpecPackage, 'name' | 'version'>): string {
    return join(
      this.#paths.dataPackages,
      plainName('package', pkg.name),
      plainName('package version', pkg.version),
    );
  }

  jobDir(spec: ApplySpec, job: string): string {
    const archive = spec.rendered_templates_archive;
    const template = spec.job?.templates.find((t) => t.name === job);
    const key = createHash('sha1')
      .update(`${template?.version ?? ''}\0${archive?.sha1 ?? ''}`)
      .digest('hex');
    return join(this.#paths.dataJobs, plainName('job', job), key);
  }

  /** Downloads, verifies and unpacks into `dir` unless it is already there. */
  async #install(ref: BlobRef, dir: string, signal: AbortSignal, prefix?: string): Promise<void> {
    if (await exists(dir)) return;
    await mkdir(this.#paths.dataTmp, { recursive: true });
    const tmpFile = join(this.#paths.dataTmp, `blob-${randomUUID()}`);
    const tmpDir = `${dir}.${randomUUID()}.partial`;
    try {
      await this.#blobstore.fetch(blobOf(ref), tmpFile, signal);
      await mkdir(tmpDir, { recursive: true });
      await extractTgz(tmpFile, tmpDir, { signal, ...(prefix === undefined ? {} : { prefix }) });
      await renameUnlessPresent(tmpDir, dir);
    } finally {
      await rm(tmpFile, { force: true });
      await rm(tmpDir, { recursive: true, force: true });
    }
  }

  /** Fetches and unpacks every package and job of the spec; links nothing (prepare). */
  async prepare(spec: ApplySpec, signal: AbortSignal): Promise<void> {
    for (const pkg of Object.values(spec.packages)) {
      signal.throwIfAborted();
      await this.#install(pkg, this.packageDir(pkg), signal);
    }
    const jobs = specJobs(spec);
    const archive = spec.rendered_templates_archive;
    if (jobs.length === 0) return;
    if (!archive) {
      throw new AgentError(
        AgentErrorCode.InvalidArguments,
        'apply spec names jobs but no rendered_templates_archive',
      );
    }
    const missing: string[] = [];
    for (const job of jobs) if (!(await exists(this.jobDir(spec, job)))) missing.push(job);
    if (missing.length === 0) return;
    await mkdir(this.#paths.dataTmp, { recursive: true });
    const tmpFile = join(this.#paths.dataTmp, `templates-${randomUUID()}`);
    try {
      await this.#blobstore.fetch(blobOf(archive), tmpFile, signal);
      for (const job of missing) {
        const dir = this.jobDir(spec, job);
        const tmpDir = `${dir}.${randomUUID()}.partial`;
        try {
          await extractTgz(tmpFile, tmpDir, { prefix: job, signal });
          await renameUnlessPresent(tmpDir, dir);
        } finally {
          await rm(tmpDir, { recursive: true, force: true });
        }
      }
    } finally {
      await rm(tmpFile, { force: true });
    }
  }

  /** Prepares, then links jobs and packages and removes the ones the spec no longer names. */
  async install(spec: ApplySpec, signal: AbortSignal): Promise<void> {
    await this.prepare(spec, signal);
    const p = this.#paths;
    await Promise.all([p.jobs, p.packages, p.sysLog, p.sysRun].map((d) => mkdir(d, { recursive: true })));
    const packageNames = Object.values(spec.packages).map((pkg) => pkg.name);
    for (const pkg of Object.values(spec.packages)) {
      await replaceSymlink(this.packageDir(pkg), join(p.packages, pkg.name));
    }
    const jobs = specJobs(spec);
    for (const job of jobs) {
      const dir = this.jobDir(spec, job);
      // BOSH gives each job a packages/ folder linking the packages it can use.
      await mkdir(join(dir, 'packages'), { recursive: true });
      for (const pkg of Object.values(spec.packages)) {
        await replaceSymlink(this.packageDir(pkg), join(dir, 'packages', pkg.name));
      }
      await replaceSymlink(dir, join(p.jobs, job));
      await mkdir(join(p.sysLog, job), { recursive: true });
      await mkdir(join(p.sysRun, job), { recursive: true });
    }
    await this.#prune(p.jobs, p.dataJobs, new Set(jobs), (name) => this.jobDir(spec, name));
    await this.#prune(p.packages, p.dataPackages, new Set(packageNames), (name) => {
      const pkg = spec.packages[name] ?? Object.values(spec.packages).find((x) => x.name === name);
      return pkg ? this.packageDir(pkg) : '';
    });
  }

  /** Removes links and installed versions that the spec does not name. */
  async #prune(
    linkDir: string,
    dataDir: string,
    keep: ReadonlySet<string>,
    current: (name: string) => string,
  ): Promise<void> {
    for (const name of await readdir(linkDir).catch(() => [])) {
      if (!keep.has(name)) await rm(join(linkDir, name), { force: true });
    }
    for (const name of await readdir(dataDir).catch(() => [])) {
      if (!keep.has(name)) {
        await rm(join(dataDir, name), { recursive: true, force: true });
        continue;
      }
      const wanted = current(name);
      for (const version of await readdir(join(dataDir, name)).catch(() => [])) {
        const dir = join(dataDir, name, version);
        if (dir !== wanted) await rm(dir, { recursive: true, force: true });
      }
    }
  }
}
