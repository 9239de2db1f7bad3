export * from './plan-types.ts';
export {
  planDeployment,
  type PlanInput,
  type PlanOptions,
  type StateOverrideTarget,
} from './plan-deployment.ts';
export { applyRenderedHashes } from './apply-rendered-hashes.ts';
export { planSummary } from './plan-summary.ts';
export type { RenderedHashes, SettingsHashes } from './instance-changes.ts';
export type { ReloadableStemcell } from './choose-stemcell-strategy.ts';
export { PlanImpossible } from './plan-impossible.ts';
