import { join } from 'node:path';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { rootfsSignaturesMigration } from './016-rootfs-signatures.ts';
import { rootfsRootDigestsMigration } from './018-rootfs-root-digests.ts';
import type { DirectorDeps, Feature } from '../feature.ts';
import { ScratchSpace } from '../stemcells/scratch-space.ts';
import { uploadCheckRoute } from '../stemcells/upload-check-route.ts';
import { uploadRoute } from '../stemcells/upload-intake.ts';
import { deleteRootfsRoute } from './delete-rootfs-route.ts';
import { deleteRootfsTask } from './delete-rootfs-task.ts';
import { listRootfsRoute } from './list-rootfs-route.ts';
import { RootfsStore } from './rootfs-store.ts';
import { digestsOnly, type RootfsTrust } from './rootfs-trust.ts';
import { releaseStaleReservations } from './stale-reservations.ts';
import { updateRootfsTask, UPDATE_ROOTFS } from './update-rootfs-task.ts';

/** Where rootfs uploads in flight keep their files. */
export function rootfsScratch(deps: Pick<DirectorDeps, 'tmpDir'>): ScratchSpace {
  return new ScratchSpace(join(deps.tmpDir, 'rootfs-uploads'));
}

export { digestsOnly, rootfsTrust, type RootfsTrust } from './rootfs-trust.ts';

/**
 * Generic stemcells (`rootfs.tgz`): upload, list, delete. `trust` (config `rootfs`): which
 * signing keys an upload's rootfs.MF.sig must be by; default, digests only.
 */
export const createRootfsFeature = (trust: RootfsTrust = digestsOnly): Feature => ({
  name: 'rootfs',
  migrations: [rootfsMigration, rootfsSignaturesMigration, rootfsRootDigestsMigration],
  routes(deps) {
    const store = new RootfsStore(deps.db);
    return [
      uploadCheckRoute({
        path: '/rootfs_uploads',
        field: 'rootfs',
        exists: async (name, version) => (await store.find(name, version)) !== null,
      }),
      uploadRoute({
        path: '/rootfs',
        taskType: UPDATE_ROOTFS,
        description: 'create rootfs',
        scratch: rootfsScratch(deps),
        tasks: deps.tasks,
      }),
      listRootfsRoute(deps.db),
      deleteRootfsRoute(deps.tasks),
    ];
  },
  taskHandlers(deps) {
    return [updateRootfsTask(deps, rootfsScratch(deps), trust), deleteRootfsTask(deps)];
  },
  async startup(deps) {
    await rootfsScratch(deps).clear();
    // After main.ts failed the tasks a previous run left processing: their reservations go.
    await releaseStaleReservations(deps.db);
  },
});

/** The rootfs feature with no trusted keys: uploads are checked by digest only. */
export const rootfsFeature: Feature = createRootfsFeature();
