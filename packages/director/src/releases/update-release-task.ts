import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { JobManifest, ReleaseManifestCompiledPackage, ReleaseManifestPackage } from '@refit/protocol';
import type { BlobInfo } from '../blobstore/blobstore.ts';
import { dependencyKey } from '../compiled-packages/dependency-key.ts';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import { BugError } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { ScratchSpace } from '../stemcells/scratch-space.ts';
import type { TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { deleteUnreferencedBlobs } from './blob-references.ts';
import {
  extractRelease,
  packageArchive,
  readReleaseManifest,
  verifyJobArchive,
  verifyPackageArchive,
} from './check-release-archive.ts';
import { fetchRelease } from './fetch-release.ts';
import type { PendingBlobs } from './pending-blobs.ts';
import { resolvePackageDependencies } from './package-dependencies.ts';
import {
  PackageMissingSourceCode,
  ReleaseExistingJobFingerprintMismatch,
  ReleaseInvalidPackage,
  ReleaseVersionCommitHashMismatch,
} from './release-errors.ts';
import { ReleaseStore, type JobRecord, type PackageRecord } from './release-store.ts';
import { parseReleaseVersion, rebaseVersion } from './release-version.ts';
import {
  saveReleaseVersion,
  type SavedCompiledPackage,
  type SavedJob,
  type SavedPackage,
} from './save-release-version.ts';
import { UPDATE_RELEASE, UpdateReleaseParams } from './upload-release-route.ts';

type Deps = Pick<DirectorDeps, 'db' | 'blobstore' | 'events'>;

/** Runs `fn` as BOSH's `single_step_stage`: a stage of one task, both named `name`. */
export function singleStep<T>(ctx: TaskContext, name: string, fn: () => Promise<T>): Promise<T> {
  return ctx.events.stage(name, { total: 1 }).task(name, fn);
}

/**
 * `update_release` (BOSH's jobs/update_release.rb). Stages, each as BOSH names them:
 * `Downloading remote release` / `Verifying remote release` (URL uploads), `Extracting
 * release`, `Verifying manifest`, `Resolving package dependencies`, `Creating new packages`
 * (one task per `name/version`), `Processing N existing packages`, `Creating new compiled
 * packages` (compiled releases), `Creating new jobs`, `Processing N existing jobs`, then
 * `Release has been created` (`Compiled Release has been created`). Every job and package
 * tarball is checked (digest from release.MF, hostile entries, job.MF) before its blob is
 * stored; the database rows are written in one transaction at the end, and a failure removes
 * the blobs this upload stored that nothing else names. Result: `Created release '<n>/<v>'`.
 */
export function updateReleaseTask(
  deps: Deps,
  scratch: ScratchSpace,
  pending: PendingBlobs,
): TaskHandler<UpdateReleaseParams> {
  return {
    type: UPDATE_RELEASE,
    parseParams: (raw) => UpdateReleaseParams.parse(raw),
    async run(ctx, params) {
      const stored = new Set<string>();
      const pendingFile = pending.fileFor(params.scratchDir);
      let objectName: string | null = null;
      let committed = false;
      try {
        const archive = await fetchRelease({ ctx, params, scratch });
        const dir = join(params.scratchDir, 'extracted');
        await singleStep(ctx, 'Extracting release', () => extractRelease(archive, dir, ctx.signal));
        const read = await singleStep(ctx, 'Verifying manifest', () => readReleaseManifest(dir));
        const { manifest, compiled } = read;
        const store = new ReleaseStore(deps.db);
        const release = await store.findRelease(manifest.name);
        let version = manifest.version;
        if (params.rebase) {
          const existing = release ? (await store.versions(release.id)).map((v) => v.version) : [];
          const parsed = parseReleaseVersion(version);
          if (parsed === null) throw new BugError(`release version '${version}' passed the manifest check`);
          version = rebaseVersion(parsed, existing);
          ctx.debug.write(`Rebased release version ${manifest.version} => ${version}\n`);
        }
        objectName = `${manifest.name}/${version}`;
        const commitHash = manifest.commit_hash ?? null;
        const uncommitted = manifest.uncommitted_changes ?? false;
        const existingVersion = await store.findVersion(manifest.name, version);
        if (
          existingVersion &&
          (existingVersion.commitHash !== commitHash || existingVersion.uncommittedChanges !== uncommitted)
        ) {
          throw new ReleaseVersionCommitHashMismatch(
            `release '${objectName}' has already been uploaded with commit_hash as ` +
              `'${existingVersion.commitHash ?? ''}' and uncommitted_changes as '${String(uncommitted)}'`,
          );
        }
        await singleStep(ctx, 'Resolving package dependencies', () => {
          const resolved = resolvePackageDependencies(read.packages);
          for (const [name, all] of resolved) {
            ctx.debug.write(`Resolved package dependencies for '${name}': [${all.join(', ')}]\n`);
          }
          return Promise.resolve();
        });

        const put = async (file: string): Promise<BlobInfo> => {
          const blob = await deps.blobstore.put(createReadStream(file), ctx.signal);
          stored.add(blob.id);
          await pending.add(pendingFile, blob.id);
          return blob;
        };
        const blobOf = (info: BlobInfo, expected: string) => ({ id: info.id, sha1: expected });

        // Packages: new ones are created, existing ones (same release, name, version) reused.
        const packages: SavedPackage[] = [];
        const fresh: ReleaseManifestPackage[] = [];
        const reused: [ReleaseManifestPackage, PackageRecord][] = [];
        for (const meta of read.packages) {
          const existing = release ? await store.findPackage(release.id, meta.name, meta.version) : null;
          if (existing && existing.fingerprint !== meta.fingerprint) {
            throw new ReleaseInvalidPackage(
              `package '${meta.name}/${meta.version}' had different fingerprint in previously uploaded release '${manifest.name}'`,
            );
          }
          if (existing) reused.push([meta, existing]);
          else fresh.push(meta);
        }
        const sourceBlob = async (meta: ReleaseManifestPackage, required: boolean) => {
          const file = await packageArchive(dir, false, meta.name);
          if (file !== null) {
            await verifyPackageArchive(file, meta, ctx.signal);
            return blobOf(await put(file), meta.sha1);
          }
          const shared = await store.packageBlobByFingerprint(meta.fingerprint);
          if (shared) return { id: shared.blobstoreId, sha1: shared.sha1 };
          if (!required) return null;
          throw new PackageMissingSourceCode(
            `Package '${meta.name}/${meta.version}' is not in the release archive (packages/${meta.name}.tgz) ` +
              `and no package with fingerprint '${meta.fingerprint}' is on the director`,
          );
        };
        if (fresh.length > 0) {
          const stage = ctx.events.stage('Creating new packages', { total: fresh.length });
          for (const meta of fresh) {
            const blob = await stage.task(`${meta.name}/${meta.version}`, () =>
              compiled ? Promise.resolve(null) : sourceBlob(meta, true),
            );
            packages.push({ ...savedPackage(meta), blob, existingId: null });
          }
        }
        if (reused.length > 0) {
          const count = reused.length;
          await singleStep(ctx, `Processing ${count} existing package${count > 1 ? 's' : ''}`, async () => {
            for (const [meta, existing] of reused) {
              let blob: SavedPackage['blob'] = null;
              if (!compiled && (params.fix || existing.blobstoreId === null))
                blob = await sourceBlob(meta, false);
              else if (!compiled) {
                const file = await packageArchive(dir, false, meta.name);
                if (file !== null) await verifyPackageArchive(file, meta, ctx.signal);
              }
              packages.push({ ...savedPackage(meta), blob, existingId: existing.id });
            }
          });
        }

        const compiledPackages = compiled
          ? await createCompiledPackages(ctx, {
              dir,
              metas: read.packages as ReleaseManifestCompiledPackage[],
              fix: params.fix,
              compiledStore: new CompiledPackageStore(deps.db),
              put,
            })
          : [];

        // Jobs.
        const releasePackages = new Set(read.packages.map((p) => p.name));
        const jobs: SavedJob[] = [];
        const freshJobs: typeof manifest.jobs = [];
        const reusedJobs: [(typeof manifest.jobs)[number], JobRecord][] = [];
        for (const meta of manifest.jobs) {
          const existing = release ? await store.findJob(release.id, meta.name, meta.version) : null;
          if (existing && existing.fingerprint !== meta.fingerprint) {
            throw new ReleaseExistingJobFingerprintMismatch(
              `job '${meta.name}' had different fingerprint in previously uploaded release '${objectName}'`,
            );
          }
          if (existing) reusedJobs.push([meta, existing]);
          else freshJobs.push(meta);
        }
        const verifyAndPutJob = async (meta: (typeof manifest.jobs)[number]) => {
          const spec: JobManifest = await verifyJobArchive({
            dir,
            meta,
            releasePackages,
            signal: ctx.signal,
          });
          const blob = blobOf(await put(join(dir, 'jobs', `${meta.name}.tgz`)), meta.sha1);
          return { spec, blob };
        };
        if (freshJobs.length > 0) {
          const stage = ctx.events.stage('Creating new jobs', { total: freshJobs.length });
          for (const meta of freshJobs) {
            const { spec, blob } = await stage.task(`${meta.name}/${meta.version}`, () =>
              verifyAndPutJob(meta),
            );
            jobs.push({
              name: meta.name,
              version: meta.version,
              fingerprint: meta.fingerprint,
              blob,
              spec,
              existingId: null,
            });
          }
        }
        if (reusedJobs.length > 0) {
          const count = reusedJobs.length;
          await singleStep(ctx, `Processing ${count} existing job${count > 1 ? 's' : ''}`, async () => {
            for (const [meta, existing] of reusedJobs) {
              const job = params.fix
                ? await verifyAndPutJob(meta)
                : { spec: existing.spec, blob: { id: existing.blobstoreId, sha1: existing.sha1 } };
              jobs.push({
                ...job,
                name: meta.name,
                version: meta.version,
                fingerprint: meta.fingerprint,
                existingId: existing.id,
              });
            }
          });
        }

        const createdStage = compiled ? 'Compiled Release has been created' : 'Release has been created';
        await ctx.events.stage(createdStage, { total: 1 }).task(objectName, async () => {
          const replaced = await saveReleaseVersion(deps.db, {
            name: manifest.name,
            version,
            commitHash,
            uncommittedChanges: uncommitted,
            packages,
            jobs,
            compiledPackages,
          });
          committed = true;
          await deleteUnreferencedBlobs(deps.db, deps.blobstore, replaced).catch((error: unknown) =>
            ctx.debug.write(`could not delete replaced blobs: ${String(error)}\n`),
          );
        });
        await record(deps, ctx, manifest.name, version, null);
        return `Created release '${objectName}'`;
      } catch (error) {
        if (!committed) {
          await deleteUnreferencedBlobs(deps.db, deps.blobstore, stored).catch((cleanup: unknown) =>
            ctx.debug.write(`could not remove blobs of the failed upload: ${String(cleanup)}\n`),
          );
        }
        const [name, version] = objectName?.split('/') ?? [null, null];
        await record(deps, ctx, name ?? null, version ?? null, (error as Error).message);
        throw error;
      } finally {
        await pending.remove(pendingFile);
        await scratch.remove(params.scratchDir);
      }
    },
    async recover(params) {
      await pending.settle(pending.fileFor(params.scratchDir), deps.db, deps.blobstore);
      await scratch.remove(params.scratchDir);
    },
  };
}

function savedPackage(meta: ReleaseManifestPackage) {
  return {
    name: meta.name,
    version: meta.version,
    fingerprint: meta.fingerprint,
    dependencies: meta.dependencies,
  };
}

/** `Creating new compiled packages`: one task per package not yet compiled for its stemcell. */
async function createCompiledPackages(
  ctx: TaskContext,
  options: {
    readonly dir: string;
    readonly metas: readonly ReleaseManifestCompiledPackage[];
    readonly fix: boolean;
    readonly compiledStore: CompiledPackageStore;
    readonly put: (file: string) => Promise<BlobInfo>;
  },
): Promise<SavedCompiledPackage[]> {
  const keyed = options.metas.map((m) => ({
    name: m.name,
    version: m.version,
    dependencies: m.dependencies,
  }));
  const todo: { meta: ReleaseManifestCompiledPackage; key: string; os: string; version: string }[] = [];
  for (const meta of options.metas) {
    const [os = '', version = ''] = meta.stemcell.split('/');
    const key = dependencyKey(meta.name, keyed);
    const existing = await options.compiledStore.find({
      fingerprint: meta.fingerprint,
      dependencyKey: key,
      stemcellOs: os,
      stemcellVersion: version,
    });
    const exact = existing !== null && existing.stemcellVersion === version;
    const file = await packageArchive(options.dir, true, meta.name);
    if (exact && !options.fix) {
      if (file !== null) await verifyPackageArchive(file, meta, ctx.signal);
      continue;
    }
    if (file === null) {
      if (exact) continue;
      throw new PackageMissingSourceCode(
        `Compiled package '${meta.name}/${meta.version}' for '${meta.stemcell}' is not in the release archive ` +
          `(compiled_packages/${meta.name}.tgz) and not on the director`,
      );
    }
    todo.push({ meta, key, os, version });
  }
  if (todo.length === 0) return [];
  const stage = ctx.events.stage('Creating new compiled packages', { total: todo.length });
  const saved: SavedCompiledPackage[] = [];
  for (const { meta, key, os, version } of todo) {
    await stage.task(`${meta.name}/${meta.version} for ${os}/${version}`, async () => {
      const file = await packageArchive(options.dir, true, meta.name);
      if (file === null) throw new BugError(`compiled package archive of '${meta.name}' vanished`);
      await verifyPackageArchive(file, meta, ctx.signal);
      const blob = await options.put(file);
      saved.push({
        packageName: meta.name,
        fingerprint: meta.fingerprint,
        dependencyKey: key,
        stemcellOs: os,
        stemcellVersion: version,
        blob: { id: blob.id, sha1: meta.sha1 },
      });
    });
  }
  return saved;
}

async function record(
  deps: Deps,
  ctx: TaskContext,
  name: string | null,
  version: string | null,
  error: string | null,
): Promise<void> {
  await deps.events
    .record({
      action: 'create',
      objectType: 'release',
      objectName: name,
      user: ctx.user,
      task: ctx.taskId,
      context: version === null ? {} : { version },
      error,
    })
    .catch(() => undefined);
}
