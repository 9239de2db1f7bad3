import { z } from 'zod';
import { RootfsInUse, RootfsNotFound } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { RootfsStore, type RootfsRecord } from './rootfs-store.ts';
import { releaseStaleReservations } from './stale-reservations.ts';

export const DELETE_ROOTFS = 'delete_rootfs';

export const DeleteRootfsParams = z.object({ name: z.string(), version: z.string() });
export type DeleteRootfsParams = z.infer<typeof DeleteRootfsParams>;

type Deps = Pick<DirectorDeps, 'db' | 'blobstore' | 'events'>;

/**
 * `delete_rootfs`: refused while a reload in progress holds a reservation on the rootfs
 * (`rootfs_reservations`; those of tasks no longer running are released first); otherwise removes the row, then the blob unless another row shares
 * it (the blobstore is content addressed). Row first: a crash in between leaves an orphan blob,
 * never a row pointing at nothing.
 */
export function deleteRootfsTask(deps: Deps): TaskHandler<DeleteRootfsParams> {
  return {
    type: DELETE_ROOTFS,
    parseParams: (raw) => DeleteRootfsParams.parse(raw),
    async run(ctx, { name, version }) {
      const store = new RootfsStore(deps.db);
      const objectName = `${name}/${version}`;
      try {
        const rootfs = await store.find(name, version);
        if (rootfs === null) throw new RootfsNotFound(`Rootfs '${objectName}' doesn't exist`);
        const stage = ctx.events.stage('Deleting rootfs', { total: 1 });
        await stage.task(`Delete rootfs ${objectName}`, () => deleteRootfsRecord(deps, rootfs));
        await record(deps, ctx.user, ctx.taskId, objectName, null);
        return `/rootfs/${name}/${version}`;
      } catch (error) {
        await record(deps, ctx.user, ctx.taskId, objectName, (error as Error).message);
        throw error;
      }
    },
  };
}

/**
 * Deletes one rootfs unless a reload in progress holds it (stale reservations released first):
 * the row, then the blob unless another row shares it. Also used by clean-up.
 */
export async function deleteRootfsRecord(
  deps: Pick<Deps, 'db' | 'blobstore'>,
  rootfs: RootfsRecord,
): Promise<void> {
  const objectName = `${rootfs.name}/${rootfs.version}`;
  const deleted = await deps.db.transaction(async (tx) => {
    await releaseStaleReservations(tx);
    const holders = await new RootfsStore(tx).reservationHolders(rootfs.id);
    if (holders.length > 0) {
      throw new RootfsInUse(
        `Rootfs '${objectName}' is needed by a reload in progress: ${holders.join(', ')}`,
      );
    }
    await new RootfsStore(tx).delete(rootfs.id);
    return (await new RootfsStore(tx).countByBlob(rootfs.blobstoreId)) === 0;
  });
  if (deleted) await deps.blobstore.delete(rootfs.blobstoreId);
}

async function record(deps: Deps, user: string, task: number, objectName: string, error: string | null) {
  await deps.events
    .record({ action: 'delete', objectType: 'rootfs', objectName, user, task, error })
    .catch(() => undefined);
}
