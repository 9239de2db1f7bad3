import { z } from 'zod';
import { StemcellInUse, StemcellNotFound } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { StemcellStore, type StemcellRecord } from './stemcell-store.ts';

export const DELETE_STEMCELL = 'delete_stemcell';

export const DeleteStemcellParams = z.object({ name: z.string(), version: z.string(), force: z.boolean() });
export type DeleteStemcellParams = z.infer<typeof DeleteStemcellParams>;

type Deps = Pick<DirectorDeps, 'db' | 'cloud' | 'events'>;

/**
 * `delete_stemcell` (BOSH's jobs/delete_stemcell.rb + stemcell_deleter.rb): refused while a
 * deployment uses the stemcell (`force` does not change that), then CPI `delete_stemcell`
 * (errors ignored only with `force`), then the row.
 */
export function deleteStemcellTask(deps: Deps): TaskHandler<DeleteStemcellParams> {
  return {
    type: DELETE_STEMCELL,
    parseParams: (raw) => DeleteStemcellParams.parse(raw),
    async run(ctx, { name, version, force }) {
      const store = new StemcellStore(deps.db);
      const objectName = `${name}/${version}`;
      try {
        const stemcells = await store.findAll(name, version);
        if (stemcells.length === 0) throw new StemcellNotFound(`Stemcell '${objectName}' doesn't exist`);
        const stage = ctx.events.stage('Deleting stemcell from cloud', { total: stemcells.length });
        for (const stemcell of stemcells) {
          const deployments = await store.deploymentsUsing(stemcell.id);
          if (deployments.length > 0) {
            throw new StemcellInUse(`Stemcell '${objectName}' is still in use by: ${deployments.join(', ')}`);
          }
          await stage.task('Delete stemcell', () => deleteStemcellFromCloud(deps, ctx, stemcell, force));
          await store.delete(stemcell.id);
        }
        await record(deps, ctx.user, ctx.taskId, objectName, null);
        return `/stemcells/${name}/${version}`;
      } catch (error) {
        await record(deps, ctx.user, ctx.taskId, objectName, (error as Error).message);
        throw error;
      }
    },
  };
}

/**
 * CPI `delete_stemcell` of one stemcell copy (errors ignored only with `force`); the caller
 * deletes its row afterwards. Also used by clean-up.
 */
export async function deleteStemcellFromCloud(
  deps: Pick<Deps, 'cloud'>,
  ctx: Pick<TaskContext, 'signal' | 'cpi' | 'debug'>,
  stemcell: StemcellRecord,
  force: boolean,
): Promise<void> {
  try {
    await deps.cloud.call('delete_stemcell', [stemcell.cid], { signal: ctx.signal, log: ctx.cpi });
  } catch (error) {
    if (!force || ctx.signal.aborted) throw error;
    ctx.debug.write(`Force deleting is set, ignoring exception: ${(error as Error).message}\n`);
  }
}

async function record(deps: Deps, user: string, task: number, objectName: string, error: string | null) {
  await deps.events
    .record({ action: 'delete', objectType: 'stemcell', objectName, user, task, error })
    .catch(() => undefined);
}
