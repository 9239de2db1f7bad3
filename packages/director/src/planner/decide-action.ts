import type { StemcellStrategy } from '../manifests/update-config.ts';
import { chooseStemcellStrategy, type ReloadableStemcell } from './choose-stemcell-strategy.ts';
import {
  vmReplacingChanges,
  type CurrentInstance,
  type InstanceAction,
  type InstancePlan,
} from './plan-types.ts';

/** Action, needsRecreate and strategy from the changes: shared with `applyRenderedHashes`. */
export function decideAction(
  plan: Omit<InstancePlan, 'action' | 'needsRecreate' | 'needsShuttingDown' | 'stemcellStrategy'>,
  requested: StemcellStrategy,
  reload: { readonly reloadable: readonly ReloadableStemcell[]; readonly allowDowngrade: boolean },
): InstancePlan {
  const { changes, existing } = plan;
  const needsRecreate = [...changes].some((c) => vmReplacingChanges.has(c));
  let action: InstanceAction;
  if (existing === null) action = 'create';
  else if (plan.desiredState === 'detached') action = existing.vm === null ? 'none' : 'detach';
  else if (existing.vm === null) action = 'create';
  else if (needsRecreate) action = 'recreate';
  else action = changes.size > 0 ? 'update-in-place' : 'none';
  const stemcellStrategy =
    action === 'recreate' && existing !== null && plan.stemcell !== null
      ? chooseStemcellStrategy({ requested, changes, current: existing, target: plan.stemcell, ...reload })
      : null;
  return { ...plan, action, needsRecreate, needsShuttingDown: needsRecreate, stemcellStrategy };
}

export function obsoletePlan(instance: CurrentInstance, skipDrain: boolean): InstancePlan {
  return {
    id: instance.id,
    group: instance.group,
    index: instance.index,
    az: instance.az,
    action: 'delete',
    changes: new Set(),
    needsRecreate: false,
    needsShuttingDown: true,
    stemcellStrategy: null,
    desiredState: 'detached',
    canary: false,
    existing: instance,
    migratedFrom: null,
    stemcell: null,
    cloudProperties: instance.vm?.cloudProperties ?? {},
    env: instance.vm?.env ?? {},
    networkSettings: instance.vm?.networkSettings ?? {},
    persistentDisk: null,
    tags: instance.tags ?? {},
    skipDrain,
  };
}
