import type { CountOrPercent, ManifestGroupUpdate, ManifestUpdate, WatchTime } from '@refit/protocol';
import type { ProblemList } from './manifest-invalid.ts';

/** A count (`3`) or a share of the group (`25%`). */
export type Amount =
  { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

export interface WatchTimes {
  readonly minMs: number;
  readonly maxMs: number;
}

export const VmStrategy = { deleteCreate: 'delete-create', createSwapDelete: 'create-swap-delete' } as const;
export type VmStrategy = (typeof VmStrategy)[keyof typeof VmStrategy];

export const StemcellStrategy = { recreate: 'recreate', reload: 'reload' } as const;
export type StemcellStrategy = (typeof StemcellStrategy)[keyof typeof StemcellStrategy];

/** The `update` block, merged (instance group over deployment) and with defaults applied. */
export interface CompiledUpdate {
  readonly canaries: Amount;
  readonly maxInFlight: Amount;
  readonly canaryWatchTime: WatchTimes;
  readonly updateWatchTime: WatchTimes;
  readonly serial: boolean;
  readonly vmStrategy: VmStrategy;
  readonly initialDeployAzUpdateStrategy: 'serial' | 'parallel';
  readonly stemcellStrategy: StemcellStrategy;
  readonly reloadFallback: 'fail' | 'recreate';
}

/** BOSH's rule: a percentage is floor(n × size / 100), capped at size; a count is itself. */
export function amountFor(amount: Amount, size: number): number {
  return amount.kind === 'count' ? amount.value : Math.min(Math.floor((amount.value * size) / 100), size);
}

/** Canaries for a set of `size` instances (may be 0). */
export function canariesFor(update: CompiledUpdate, size: number): number {
  return amountFor(update.canaries, size);
}

/** max_in_flight for a set of `size` instances: never below 1. */
export function maxInFlightFor(update: CompiledUpdate, size: number): number {
  return Math.max(1, amountFor(update.maxInFlight, size));
}

export function parseAmount(value: CountOrPercent): Amount {
  if (typeof value === 'number') return { kind: 'count', value };
  const text = value.trim();
  return text.endsWith('%')
    ? { kind: 'percent', value: Number(text.slice(0, -1)) }
    : { kind: 'count', value: Number(text) };
}

export function parseWatchTime(value: WatchTime, path: string, problems: ProblemList): WatchTimes {
  if (typeof value === 'number') return { minMs: value, maxMs: value };
  const [min, max] = value.split('-').map((part) => Number(part.trim()));
  const minMs = min ?? 0;
  const maxMs = max ?? minMs;
  if (minMs > maxMs) problems.add(path, 'min watch time cannot be greater than max watch time');
  return { minMs, maxMs };
}

export function compileDeploymentUpdate(raw: ManifestUpdate, problems: ProblemList): CompiledUpdate {
  return {
    canaries: parseAmount(raw.canaries),
    maxInFlight: parseAmount(raw.max_in_flight),
    canaryWatchTime: parseWatchTime(raw.canary_watch_time, 'update.canary_watch_time', problems),
    updateWatchTime: parseWatchTime(raw.update_watch_time, 'update.update_watch_time', problems),
    serial: raw.serial ?? true,
    vmStrategy: raw.vm_strategy ?? VmStrategy.deleteCreate,
    initialDeployAzUpdateStrategy: raw.initial_deploy_az_update_strategy ?? 'serial',
    stemcellStrategy: raw.stemcell_strategy ?? StemcellStrategy.recreate,
    reloadFallback: raw.reload_fallback ?? 'fail',
  };
}

/** An instance group's `update` overrides the deployment's key by key. */
export function mergeGroupUpdate(
  base: CompiledUpdate,
  raw: ManifestGroupUpdate | undefined,
  path: string,
  problems: ProblemList,
): CompiledUpdate {
  if (raw === undefined) return base;
  return {
    canaries: raw.canaries === undefined ? base.canaries : parseAmount(raw.canaries),
    maxInFlight: raw.max_in_flight === undefined ? base.maxInFlight : parseAmount(raw.max_in_flight),
    canaryWatchTime:
      raw.canary_watch_time === undefined
        ? base.canaryWatchTime
        : parseWatchTime(raw.canary_watch_time, `${path}.canary_watch_time`, problems),
    updateWatchTime:
      raw.update_watch_time === undefined
        ? base.updateWatchTime
        : parseWatchTime(raw.update_watch_time, `${path}.update_watch_time`, problems),
    serial: raw.serial ?? base.serial,
    vmStrategy: raw.vm_strategy ?? base.vmStrategy,
    initialDeployAzUpdateStrategy:
      raw.initial_deploy_az_update_strategy ?? base.initialDeployAzUpdateStrategy,
    stemcellStrategy: raw.stemcell_strategy ?? base.stemcellStrategy,
    reloadFallback: raw.reload_fallback ?? base.reloadFallback,
  };
}
