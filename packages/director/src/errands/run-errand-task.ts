import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ErrandRunResultLine, RunErrandResult } from '@refit/protocol';
import { updaterDeps, type DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import { DeploymentStore, type InstanceRecord } from '../deployments/deployment-store.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { RunErrandError } from './errand-errors.ts';
import { ErrandRunStore } from './errand-run-store.ts';
import { findErrands, type Errand } from './find-errands.ts';
import { runLifecycleErrand } from './run-lifecycle-errand.ts';

export const RUN_ERRAND = 'run_errand';

export const RunErrandParams = z.object({
  deployment: z.string().min(1),
  name: z.string().min(1),
  keepAlive: z.boolean().default(false),
  whenChanged: z.boolean().default(false),
  instances: z.array(z.object({ group: z.string(), id: z.string().default('') })).default([]),
});
export type RunErrandParams = z.infer<typeof RunErrandParams>;

/** What a run needs of an instance: where to call and what identifies it. */
export interface ErrandTarget {
  readonly instance: InstanceRecord;
  readonly agentId: string;
}

/**
 * `run errand NAME` (BOSH's jobs/run_errand.rb): finds the errand, the instances it runs on
 * (`instances` filters them: `group` or `group/id`), skips them all under `whenChanged` when
 * every one's state hash matches its last successful run, runs `run_errand` on each (in
 * parallel, as BOSH runs colocated errands), writes one result line per instance and records
 * the successful runs. An errand group's VMs are made for the run and deleted after it unless
 * `keepAlive` (run-lifecycle-errand.ts).
 */
export function runErrandTask(deps: DirectorDeps, extra: DeploymentTaskDeps): TaskHandler<RunErrandParams> {
  return {
    type: RUN_ERRAND,
    parseParams: (raw) => RunErrandParams.parse(raw),
    async run(ctx, params) {
      const { deployment, name } = params;
      const preparing = ctx.events.stage('Preparing deployment', { total: 1 });
      const { errand, instances, manifest } = await preparing.task('Preparing deployment', async () => {
        const found = (await findErrands(deps.db, deployment)).find((e) => e.name === name);
        if (found === undefined) throw new RunErrandError(`Errand '${name}' doesn't exist`);
        const store = new DeploymentStore(deps.db);
        const all = await store.instances(deployment);
        const text = (await store.get(deployment))?.manifest ?? '';
        return { errand: found, instances: selectInstances(found, all, params), manifest: text };
      });
      const runs = new ErrandRunStore(deps.db);
      // A colocated errand's instance is applied by deploys: its hashes say what changed. An
      // errand group's VMs are applied only by runs: its part of the deployed manifest does.
      const config = errand.kind === 'lifecycle' ? errandGroupConfig(manifest, errand.group) : '';
      const stateOf = (instance: InstanceRecord) => instanceState(instance, config);
      if (params.whenChanged && (await runs.unchanged(deployment, name, instances.map(stateOf)))) {
        ctx.events.warning(
          'Skip running errand because since last errand run was successful and there have been no changes to job configuration',
        );
        return `Errand '${name}' was not run`;
      }
      const updater = updaterDeps(deps, extra, ctx, deployment);
      const runOn = async (targets: readonly ErrandTarget[]): Promise<RunErrandResult[]> => {
        const stage = ctx.events.stage('Running errand', { total: targets.length });
        return Promise.all(
          targets.map((t) =>
            stage.task(label(t.instance), () =>
              // An errand group's VM runs its first job with a bin/run (BOSH sends no name);
              // a colocated errand names its job.
              updater.agents.call(t.agentId, 'run_errand', errand.kind === 'colocated' ? [name] : [], {
                signal: ctx.signal,
              }),
            ),
          ),
        );
      };
      const pairs =
        errand.kind === 'colocated'
          ? await runColocated(instances, runOn)
          : await runLifecycleErrand({
              deps,
              extra,
              ctx,
              updater,
              manifest,
              instances,
              keepAlive: params.keepAlive,
              runOn,
            });
      for (const [instance, result] of pairs) {
        const line: ErrandRunResultLine = {
          exit_code: result.exit_code,
          stdout: result.stdout,
          stderr: result.stderr,
          logs: { blobstore_id: null },
          instance: { group: instance.group, id: instance.id },
          errand_name: name,
        };
        ctx.result.write(`${JSON.stringify(line)}\n`);
        if (result.exit_code === 0) await runs.succeeded(deployment, name, stateOf(instance));
        else await runs.failed(deployment, name, instance.id);
      }
      const failed = pairs.find(([, r]) => r.exit_code !== 0);
      return failed === undefined
        ? `Errand '${name}' completed successfully (exit code 0)`
        : `Errand '${name}' completed with error (exit code ${failed[1].exit_code})`;
    },
  };
}

async function runColocated(
  instances: readonly InstanceRecord[],
  runOn: (targets: readonly ErrandTarget[]) => Promise<RunErrandResult[]>,
): Promise<[InstanceRecord, RunErrandResult][]> {
  const targets = instances.map((instance) => {
    if (instance.vm === null)
      throw new RunErrandError(`Instance '${instance.group}/${instance.id}' has no VM to run errand on`);
    return { instance, agentId: instance.vm.agentId };
  });
  const results = await runOn(targets);
  return targets.map((t, n): [InstanceRecord, RunErrandResult] => [
    t.instance,
    results[n] ?? { exit_code: -1, stdout: '', stderr: '' },
  ]);
}

/** The instances the errand runs on: its groups' instances, narrowed by `--instance`. */
function selectInstances(
  errand: Errand,
  all: readonly InstanceRecord[],
  params: RunErrandParams,
): InstanceRecord[] {
  const groups = errand.kind === 'lifecycle' ? [errand.group] : errand.groups;
  let chosen = all.filter((i) => groups.includes(i.group));
  if (params.instances.length > 0) {
    for (const f of params.instances) {
      const hit = chosen.some((i) => matches(i, f));
      if (!hit) {
        const slug = f.id === '' ? f.group : `${f.group}/${f.id}`;
        throw new RunErrandError(`No instances match selection '${slug}' for errand '${errand.name}'`);
      }
    }
    chosen = chosen.filter((i) => params.instances.some((f) => matches(i, f)));
  }
  // A colocated errand runs where the group's VMs are; detached instances have none.
  if (errand.kind === 'colocated') chosen = chosen.filter((i) => i.state !== 'detached');
  if (chosen.length === 0) throw new RunErrandError(`Errand '${errand.name}' has no instances to run on`);
  return chosen.sort((a, b) => (a.group === b.group ? a.index - b.index : a.group < b.group ? -1 : 1));
}

const matches = (i: InstanceRecord, f: { group: string; id: string }): boolean =>
  i.group === f.group && (f.id === '' || f.id === i.id || f.id === String(i.index));

const label = (i: InstanceRecord): string => `${i.group}/${i.id} (${i.index})`;

/** What `--when-changed` compares: the instance and what its errand sees (`config`, hashes). */
function instanceState(instance: InstanceRecord, config: string): { instanceId: string; hash: string } {
  const seen = config === '' ? { hashes: instance.hashes } : { config };
  const hash = createHash('sha256')
    .update(JSON.stringify({ group: instance.group, ...seen }))
    .digest('hex');
  return { instanceId: instance.id, hash };
}

/** The errand group, the releases, stemcells and properties of the deployed manifest, as JSON. */
function errandGroupConfig(manifest: string, group: string): string {
  const doc = (parse(manifest) ?? {}) as Record<string, unknown>;
  const groups = Array.isArray(doc.instance_groups) ? (doc.instance_groups as { name?: unknown }[]) : [];
  return JSON.stringify({
    group: groups.find((g) => g.name === group) ?? null,
    releases: doc.releases ?? null,
    stemcells: doc.stemcells ?? null,
    properties: doc.properties ?? null,
  });
}
