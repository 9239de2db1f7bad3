import type { Db } from '../db/db.ts';
import { clearReleaseUsages, recordReleaseUsage } from '../releases/release-lookup.ts';
import { DeploymentStore } from './deployment-store.ts';
import type { PreparedDeployment } from './prepare-deployment.ts';

/**
 * After a successful rollout (reference §4.3 step 7): the manifest is stored (`GET
 * /deployments/<d>` answers it), the stemcells and release versions the deployment uses are
 * recorded (so they cannot be deleted under it) and those it no longer uses released.
 */
export async function persistDeployment(
  db: Db,
  prepared: PreparedDeployment,
  manifest: string,
): Promise<void> {
  const name = prepared.compiled.name;
  await new DeploymentStore(db).saveManifest(name, manifest, prepared.cloudConfigId);
  const usedStemcells = new Set(
    prepared.plan.instanceGroups
      .filter((g) => g.lifecycle === 'service')
      .map((g) => prepared.stemcells.get(g.group.stemcell.alias)?.id)
      .filter((id): id is number => id !== undefined),
  );
  await recordStemcellUsages(db, name, [...usedStemcells]);
  const versionIds = [...prepared.releases.values()].map((r) => r.release.id);
  for (const id of versionIds) await recordReleaseUsage(db, id, name);
  await clearReleaseUsages(db, name, versionIds);
}

/** Replaces the deployment's `stemcell_usages` rows with `stemcellIds`. */
export async function recordStemcellUsages(
  db: Db,
  deployment: string,
  stemcellIds: readonly number[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute('DELETE FROM stemcell_usages WHERE deployment = $1', [deployment]);
    for (const id of stemcellIds) {
      await tx.execute('INSERT INTO stemcell_usages (stemcell_id, deployment) VALUES ($1, $2)', [
        id,
        deployment,
      ]);
    }
  });
}
