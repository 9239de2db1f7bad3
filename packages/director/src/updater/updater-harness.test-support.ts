import {
  CallLog,
  FakeAgentClient,
  FakeClock,
  FakeCloud,
  FakeInstanceStateStore,
} from '@refit/testkit/updater-fakes/index.ts';
import { planDeployment, type PlanOptions } from '../planner/plan-deployment.ts';
import type { CurrentInstance, DeploymentPlan } from '../planner/plan-types.ts';
import {
  compile,
  convergedState,
  manifestValue,
  sequentialIds,
  type ManifestInput,
} from '../planner/planner-fixtures.test-support.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import { updateDeployment } from './update-deployment.ts';
import type { InstanceTarget, UpdaterDeps, UpdaterEvent } from './updater-ports.ts';

/** The fakes wired into UpdaterDeps, one shared call log, and the event lines written. */
export function harness() {
  const log = new CallLog();
  const cloud = new FakeCloud(log);
  const agents = new FakeAgentClient(log);
  const store = new FakeInstanceStateStore(log);
  const clock = new FakeClock();
  const eventLines: Record<string, unknown>[] = [];
  const recorded: UpdaterEvent[] = [];
  let agentN = 0;
  const deps: UpdaterDeps = {
    deployment: 'dep',
    cloud,
    agents,
    store,
    clock,
    events: new JsonEventLog((line) => eventLines.push(JSON.parse(line) as Record<string, unknown>)),
    cpiLog: { write() {} },
    signal: new AbortController().signal,
    newAgentId: () => `new-agent-${++agentN}`,
    agentEnv: {},
    record: (event) => {
      recorded.push(event);
      return Promise.resolve();
    },
  };
  return { log, cloud, agents, store, clock, eventLines, recorded, deps };
}

export function targetsFor(plan: DeploymentPlan): Map<string, InstanceTarget> {
  const targets = new Map<string, InstanceTarget>();
  for (const group of plan.instanceGroups) {
    for (const i of group.instances) {
      targets.set(i.id, {
        plan: i,
        applySpec: {
          deployment: plan.name,
          name: i.group,
          id: i.id,
          index: i.index,
          job: { templates: [] },
          networks: {},
          packages: {},
          persistent_disk: i.persistentDisk?.size ?? 0,
        },
        hashes: { packages: 'p1', job: 'j1', configuration: 'c1' },
        stemcellCid: 'stemcell-cid',
        stemcellApiVersion: null,
      });
    }
  }
  return targets;
}

export function initialPlan(manifest: ManifestInput = manifestValue()): DeploymentPlan {
  return planDeployment({
    deployment: compile(manifest),
    current: { instances: [], reservations: [] },
    newId: sequentialIds(),
  });
}

/** A converged deployment of `before`, re-planned for `after`. */
export function replan(
  before: ManifestInput,
  after: ManifestInput,
  options: { mutate?: (i: CurrentInstance) => CurrentInstance; planOptions?: PlanOptions } = {},
): DeploymentPlan {
  const state = convergedState(initialPlan(before));
  const instances = options.mutate ? state.instances.map(options.mutate) : state.instances;
  return planDeployment({
    deployment: compile(after),
    current: { instances, reservations: state.reservations },
    newId: sequentialIds('new'),
    ...(options.planOptions ? { options: options.planOptions } : {}),
  });
}

export async function run(h: ReturnType<typeof harness>, plan: DeploymentPlan): Promise<void> {
  await updateDeployment(h.deps, plan, targetsFor(plan));
}

/** Most instances between updateStarted and updateCompleted at once, over the log. */
export function maxConcurrent(log: CallLog, ids?: ReadonlySet<string>): number {
  let now = 0;
  let max = 0;
  for (const e of log.entries) {
    const id = e.split(':')[2] ?? '';
    if (ids && !ids.has(id)) continue;
    if (e.startsWith('store:updateStarted:')) max = Math.max(max, ++now);
    if (e.startsWith('store:updateCompleted:')) now--;
  }
  return max;
}
