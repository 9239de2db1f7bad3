import { join } from 'node:path';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import type { DirectorDeps, Feature } from '../feature.ts';
import { deleteStemcellRoute } from './delete-stemcell-route.ts';
import { deleteStemcellTask } from './delete-stemcell-task.ts';
import { listStemcellsRoute } from './list-stemcells-route.ts';
import { ScratchSpace } from './scratch-space.ts';
import { StemcellStore } from './stemcell-store.ts';
import { updateStemcellTask, UPDATE_STEMCELL } from './update-stemcell-task.ts';
import { uploadCheckRoute } from './upload-check-route.ts';
import { uploadRoute } from './upload-intake.ts';

/** Where stemcell uploads in flight keep their files. */
export function stemcellScratch(deps: Pick<DirectorDeps, 'tmpDir'>): ScratchSpace {
  return new ScratchSpace(join(deps.tmpDir, 'stemcell-uploads'));
}

/**
 * IaaS stemcells (reference §1.5). `GET /stemcells` reads the `rootfs` table too: list
 * `rootfsFeature` with this feature (its migration creates that table).
 */
export const stemcellsFeature: Feature = {
  name: 'stemcells',
  migrations: [stemcellsMigration],
  routes(deps) {
    const store = new StemcellStore(deps.db);
    return [
      uploadCheckRoute({
        path: '/stemcell_uploads',
        field: 'stemcell',
        exists: async (name, version) => (await store.find(name, version, deps.cloud.name)) !== null,
      }),
      uploadRoute({
        path: '/stemcells',
        taskType: UPDATE_STEMCELL,
        description: 'create stemcell',
        scratch: stemcellScratch(deps),
        tasks: deps.tasks,
      }),
      listStemcellsRoute(deps.db),
      deleteStemcellRoute(deps.tasks),
    ];
  },
  taskHandlers(deps) {
    return [updateStemcellTask(deps, stemcellScratch(deps)), deleteStemcellTask(deps)];
  },
  async startup(deps) {
    await stemcellScratch(deps).clear();
  },
};
