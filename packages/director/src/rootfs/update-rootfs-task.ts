import { RootfsAlreadyExists, RootfsDigestDoesNotMatch } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import type { ScratchSpace } from '../stemcells/scratch-space.ts';
import { fetchArchive, fetchSteps, UploadTaskParams } from '../stemcells/upload-intake.ts';
import { readRootfsManifestText, verifyAndStoreRootfs } from './check-rootfs-archive.ts';
import { RootfsRootDigests } from './rootfs-root-digests.ts';
import { RootfsSignatures } from './rootfs-signatures.ts';
import { RootfsStore } from './rootfs-store.ts';
import { digestsOnly, type RootfsTrust } from './rootfs-trust.ts';

export const UPDATE_ROOTFS = 'update_rootfs';

type Deps = Pick<DirectorDeps, 'db' | 'blobstore' | 'events'>;

/**
 * `update_rootfs`, in the style of `update_stemcell`: stage `Update rootfs` with
 * `Downloading remote rootfs` / `Verifying remote rootfs` (URL uploads), `Verifying rootfs
 * manifest`, `Checking if this rootfs already exists`, `Verifying and storing rootfs <n>/<v>`
 * (one pass over the archive: every root tree entry checked, the root archive's sha256
 * computed as it is read, the whole rootfs.tgz streamed into the blobstore at the same time),
 * `Save rootfs <n>/<v> (<blobstore id>)`. An existing version is not stored again unless `fix`.
 * With `trust` (config `rootfs`), the verifying pass also checks rootfs.MF.sig over rootfs.MF's
 * bytes: missing (when required), malformed, untrusted or not verifying, the upload is refused
 * and nothing is kept; the signing key's fingerprint goes into the `create` event's context.
 */
export function updateRootfsTask(
  deps: Deps,
  scratch: ScratchSpace,
  trust: RootfsTrust = digestsOnly,
): TaskHandler<UploadTaskParams> {
  return {
    type: UPDATE_ROOTFS,
    parseParams: (raw) => UploadTaskParams.parse(raw),
    async run(ctx, params) {
      const store = new RootfsStore(deps.db);
      let objectName: string | null = null;
      let signedBy: string | null = null;
      try {
        const stage = ctx.events.stage('Update rootfs', { total: fetchSteps(params) + 4 });
        const archive = await fetchArchive({
          what: 'rootfs',
          ctx,
          stage,
          params,
          scratch,
          digestMismatch: (message) => new RootfsDigestDoesNotMatch(message),
        });
        const { manifest, text: manifestText } = await stage.task('Verifying rootfs manifest', () =>
          readRootfsManifestText(archive, ctx.signal),
        );
        const { name, version } = manifest;
        objectName = `${name}/${version}`;
        const existing = await stage.task('Checking if this rootfs already exists', () =>
          store.find(name, version),
        );
        const storeIt = params.fix || existing === null;
        const skipped = storeIt ? '' : ' (already exists, skipped)';
        const blob = await stage.task(`Verifying and storing rootfs ${objectName}${skipped}`, async () => {
          if (!storeIt && existing)
            return { id: existing.blobstoreId, sha256: existing.sha256, size: existing.size };
          const stored = await verifyAndStoreRootfs({
            archive,
            manifest,
            blobstore: deps.blobstore,
            signal: ctx.signal,
            // A blob no row points to is removed; one an existing row shares is kept.
            isReferenced: async (id) => (await store.countByBlob(id)) > 0,
            signature: { manifestText, trust },
          });
          signedBy = stored.signedBy;
          return stored;
        });
        await stage.task(`Save rootfs ${objectName} (${blob.id})${skipped}`, async () => {
          if (!storeIt) return;
          try {
            if (existing) {
              await store.replaceBlob(existing.id, {
                sha256: blob.sha256,
                size: blob.size,
                blobstoreId: blob.id,
              });
              if (existing.blobstoreId !== blob.id && (await store.countByBlob(existing.blobstoreId)) === 0) {
                await deps.blobstore.delete(existing.blobstoreId);
              }
            } else {
              await store.insert({
                name,
                version,
                operatingSystem: manifest.operating_system,
                apiVersion: manifest.api_version,
                sha256: blob.sha256,
                size: blob.size,
                blobstoreId: blob.id,
              });
            }
            if (signedBy !== null) await new RootfsSignatures(deps.db).record(blob.id, signedBy);
            // Verified in the same pass as the blob: root.tar's sha256 is rootfs.MF's.
            await new RootfsRootDigests(deps.db).record(blob.id, manifest.root_archive.sha256);
          } catch (error) {
            if ((await store.countByBlob(blob.id)) === 0) await deps.blobstore.delete(blob.id);
            if ((await store.find(name, version)) !== null && !existing) {
              throw new RootfsAlreadyExists(`Rootfs '${objectName}' already exists`, { cause: error });
            }
            throw error;
          }
        });
        await record(deps, ctx.user, ctx.taskId, objectName, null, signedBy);
        return `/rootfs/${name}/${version}`;
      } catch (error) {
        await record(deps, ctx.user, ctx.taskId, objectName, (error as Error).message);
        throw error;
      } finally {
        await scratch.remove(params.scratchDir);
      }
    },
    async recover(params) {
      await scratch.remove(params.scratchDir);
    },
  };
}

async function record(
  deps: Deps,
  user: string,
  task: number,
  objectName: string | null,
  error: string | null,
  signedBy: string | null = null,
) {
  const context = signedBy === null ? {} : { context: { signed_by: signedBy } };
  await deps.events
    .record({ action: 'create', objectType: 'rootfs', objectName, user, task, error, ...context })
    .catch(() => undefined);
}
