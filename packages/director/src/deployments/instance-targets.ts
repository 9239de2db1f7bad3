import type { InstanceTarget } from '../updater/updater-ports.ts';
import type { CompiledPackages } from './compile-packages.ts';
import { applySpecFor, contentHashes } from './instance-specs.ts';
import type { PreparedDeployment } from './prepare-deployment.ts';

/**
 * The updater's targets of a prepared deployment's instances (all, or those of `ids`): the
 * apply spec with each instance's compiled packages and rendered templates, its hashes and its
 * stemcell. A deploy adds the reload source; an errand run uses them as they are.
 */
export function instanceTargets(
  prepared: PreparedDeployment,
  packages: CompiledPackages,
  ids: readonly string[] = [...prepared.instances.keys()],
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
