import { z } from 'zod';
import {
  DeploymentAsRead,
  DeploymentDiffAsRead,
  DeploymentManifestAsRead,
  STEMCELL_STRATEGY_QUERY,
} from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';
import type { DiffLine } from './cloud-configs.ts';

export interface NameVersion {
  readonly name: string;
  readonly version: string;
}

export interface Deployment {
  readonly name: string;
  readonly releases: readonly NameVersion[];
  readonly stemcells: readonly NameVersion[];
  readonly teams: readonly string[];
  readonly cloudConfig: string;
}

/** `GET /deployments?exclude_configs=true` (the stock CLI's query). */
export async function listDeployments(client: DirectorClient, signal: AbortSignal): Promise<Deployment[]> {
  const items = await client.json(
    `/deployments${query({ exclude_configs: 'true' })}`,
    z.array(DeploymentAsRead),
    signal,
  );
  const pairs = (list: readonly { name?: string | null | undefined; version: string }[] | null | undefined) =>
    (list ?? []).map((p) => ({ name: p.name ?? '', version: p.version }));
  return items.map((d) => ({
    name: d.name,
    releases: pairs(d.releases),
    stemcells: pairs(d.stemcells),
    teams: d.teams ?? [],
    cloudConfig: d.cloud_config ?? '',
  }));
}

const path = (deployment: string) => `/deployments/${encodeURIComponent(deployment)}`;
const yamlBody = (yaml: string) => ({ kind: 'bytes' as const, contentType: 'text/yaml', data: yaml });

/** `GET /deployments/<name>`: the last successfully deployed manifest. */
export async function deploymentManifest(
  client: DirectorClient,
  deployment: string,
  signal: AbortSignal,
): Promise<string> {
  return (await client.json(path(deployment), DeploymentManifestAsRead, signal)).manifest ?? '';
}

export interface DeploymentDiff {
  readonly lines: readonly DiffLine[];
  /** Sent back as the deploy's `context` (pins the configs the diff was computed against). */
  readonly context: Readonly<Record<string, unknown>> | undefined;
}

/** `POST /deployments/<name>/diff?redact=…` (text/yaml). An HTTP error aborts the deploy. */
export async function diffDeployment(
  client: DirectorClient,
  deployment: string,
  manifest: string,
  redact: boolean,
  signal: AbortSignal,
): Promise<DeploymentDiff> {
  const answer = await client.json(
    `${path(deployment)}/diff${query({ redact: redact ? 'true' : 'false' })}`,
    DeploymentDiffAsRead,
    signal,
    { method: 'POST', body: yamlBody(manifest) },
  );
  return {
    lines: (answer.diff ?? []).map(([text, mark]) => ({
      text,
      mark: mark === 'added' || mark === 'removed' ? mark : undefined,
    })),
    context: answer.context ?? undefined,
  };
}

export type StemcellStrategy = 'reload' | 'recreate';

/** `--skip-drain`: every instance, or the listed `<group>` / `<group>/<id>`. */
export type SkipDrain =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'some'; readonly slugs: readonly string[] };

export interface DeployOptions {
  readonly recreate: boolean;
  readonly recreatePersistentDisks: boolean;
  readonly fix: boolean;
  readonly skipDrain: SkipDrain;
  readonly canaries: string | undefined;
  readonly maxInFlight: string | undefined;
  readonly dryRun: boolean;
  readonly stemcellStrategy: StemcellStrategy | undefined;
  /** `--allow-downgrade`: a reload may move a VM to an older stemcell. */
  readonly allowDowngrade: boolean;
  readonly context: Readonly<Record<string, unknown>> | undefined;
}

function skipDrainValue(skip: SkipDrain): string | undefined {
  if (skip.kind === 'all') return '*';
  if (skip.kind === 'some') return skip.slugs.join(',');
  return undefined;
}

/**
 * `POST /deployments?<query>` (text/yaml manifest): the task id. Parameters in alphabetical order,
 * as the stock CLI's encoder writes them.
 */
export function deploy(
  client: DirectorClient,
  manifest: string,
  options: DeployOptions,
  signal: AbortSignal,
): Promise<number> {
  const flag = (on: boolean) => (on ? 'true' : undefined);
  const params = query({
    allow_downgrade: flag(options.allowDowngrade),
    canaries: options.canaries,
    context: options.context === undefined ? undefined : JSON.stringify(options.context),
    dry_run: flag(options.dryRun),
    fix: flag(options.fix),
    max_in_flight: options.maxInFlight,
    recreate: flag(options.recreate),
    recreate_persistent_disks: flag(options.recreatePersistentDisks),
    skip_drain: skipDrainValue(options.skipDrain),
    [STEMCELL_STRATEGY_QUERY]: options.stemcellStrategy,
  });
  return client.startTask('POST', `/deployments${params}`, signal, yamlBody(manifest));
}

/** `DELETE /deployments/<name>[?force=true]`: the task id. */
export function deleteDeployment(
  client: DirectorClient,
  deployment: string,
  force: boolean,
  signal: AbortSignal,
): Promise<number> {
  return client.startTask(
    'DELETE',
    `${path(deployment)}${query({ force: force ? 'true' : undefined })}`,
    signal,
  );
}

/** The target state of `start`, `stop`, `stop --hard`, `restart`, `recreate`. */
export type JobState = 'started' | 'stopped' | 'detached' | 'restart' | 'recreate';

export interface ChangeStateOptions {
  readonly state: JobState;
  /** Instance group; every group (`*`) when undefined. */
  readonly group: string | undefined;
  /** Instance id or index within the group. */
  readonly instance: string | undefined;
  readonly skipDrain: boolean;
  readonly fix: boolean;
  readonly dryRun: boolean;
  readonly canaries: string | undefined;
  readonly maxInFlight: string | undefined;
  readonly stemcellStrategy: StemcellStrategy | undefined;
}

/**
 * `PUT /deployments/<d>/jobs/<group|*>[/<id>]?state=…` with an empty text/yaml body (the director
 * converges the stored manifest with these instances flagged): the task id.
 */
export function changeJobState(
  client: DirectorClient,
  deployment: string,
  options: ChangeStateOptions,
  signal: AbortSignal,
): Promise<number> {
  const flag = (on: boolean) => (on ? 'true' : undefined);
  let target = `${path(deployment)}/jobs/${options.group === undefined ? '*' : encodeURIComponent(options.group)}`;
  if (options.group !== undefined && options.instance !== undefined) {
    target += `/${encodeURIComponent(options.instance)}`;
  }
  const params = query({
    canaries: options.canaries,
    dry_run: flag(options.dryRun),
    fix: flag(options.fix),
    max_in_flight: options.maxInFlight,
    skip_drain: flag(options.skipDrain),
    state: options.state,
    [STEMCELL_STRATEGY_QUERY]: options.stemcellStrategy,
  });
  return client.startTask('PUT', `${target}${params}`, signal, yamlBody(''));
}
