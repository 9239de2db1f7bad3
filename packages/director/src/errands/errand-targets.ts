import { contentHashes, applySpecFor } from '../deployments/instance-specs.ts';
import type { CompiledPackages } from '../deployments/compile-packages.ts';
import type { PreparedDeployment } from '../deployments/prepare-deployment.ts';
import type { InstanceTarget } from '../updater/updater-ports.ts';

/**
 * The updater's targets (apply spec with compiled packages and rendered templates, hashes,
 * stemcell) of the given instances, as a deploy builds them for its instances.
 */
export function errandTargets(
  prepared: PreparedDeployment,
  packages: CompiledPackages,
  ids: readonly string[],
): Map<string, InstanceTarget> {
  const targets = new Map<string, InstanceTarget>();
  for (const id of ids) {
    const p = prepared.instances.get(id);
    if (p === undefined) continue;
    const alias = p.plan.stemcell?.alias ?? '';
    const compiled = packages.get(alias);
    const own = Object.fromEntries(
      [...p.contents.packages.keys()].flatMap((name) => {
        const found = compiled?.get(name);
        return found ? [[name, found]] : [];
      }),
    );
    const stemcell = prepared.stemcells.get(alias) ?? null;
    targets.set(id, {
      plan: p.plan,
      applySpec: applySpecFor({
        deployment: prepared.compiled.name,
        plan: p.plan,
        contents: p.contents,
        rendered: p.rendered,
        packages: own,
      }),
      hashes: { ...contentHashes(p.contents), configuration: p.rendered.configurationHash },
      stemcellCid: stemcell?.cid ?? null,
      stemcellApiVersion: stemcell?.apiVersion ?? null,
    });
  }
  return targets;
}
