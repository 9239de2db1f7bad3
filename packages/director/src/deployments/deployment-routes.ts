import { parse, stringify } from 'yaml';
import { readText } from '../api/body.ts';
import type { Route, RouteRequest } from '../api/route.ts';
import { ConfigStore } from '../configs/config-store.ts';
import { lineDiff } from '../configs/line-diff.ts';
import type { Db } from '../db/db.ts';
import { BadManifest, DeploymentNotFound, ValidationInvalidType } from '../errors.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { StemcellStore } from '../stemcells/stemcell-store.ts';
import { UPDATE_DEPLOYMENT } from './deploy-task.ts';
import type { DeployParams } from './deploy-params.ts';
import { DELETE_DEPLOYMENT } from './delete-deployment-task.ts';
import { DeploymentStore } from './deployment-store.ts';
import { ipsOf, VMS_TASK } from './vm-state.ts';

interface RouteDeps {
  readonly db: Db;
  readonly tasks: TaskQueue;
}

const lockName = (deployment: string) => `lock:deployment:${deployment}`;

/** The task holding a deployment's lock right now, if any. */
async function lockHolder(
  db: Db,
  deployment: string,
): Promise<{ taskId: number; description: string } | null> {
  const [row] = await db.query<{ task_id: number; description: string }>(
    `SELECT l.task_id AS task_id, t.description AS description FROM task_locks l JOIN tasks t ON t.id = l.task_id WHERE l.name = $1`,
    [lockName(deployment)],
  );
  return row ? { taskId: Number(row.task_id), description: String(row.description) } : null;
}

function manifestName(text: string): string {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new BadManifest(`Incorrect YAML structure of the uploaded manifest: ${(error as Error).message}`);
  }
  const name = typeof doc === 'object' && doc !== null ? (doc as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || name === '')
    throw new BadManifest('deployment manifest is invalid:\n  name: is required');
  return name;
}

const flag = (q: URLSearchParams, key: string) => q.get(key) === 'true';

/** Query parameters of §1.8/§1.10 as the task's options. */
function deployOptions(q: URLSearchParams): DeployParams['options'] {
  const options: Record<string, unknown> = {};
  if (flag(q, 'recreate')) options.recreate = true;
  if (flag(q, 'recreate_persistent_disks')) options.recreatePersistentDisks = true;
  const before = q.get('recreate_vms_created_before');
  if (before) {
    if (Number.isNaN(Date.parse(before)))
      throw new ValidationInvalidType(`recreate_vms_created_before '${before}' is not an RFC 3339 time`);
    options.recreateVmsCreatedBefore = before;
  }
  if (flag(q, 'fix')) options.fix = true;
  const skip = q.get('skip_drain');
  if (skip !== null && skip !== '' && skip !== 'false')
    options.skipDrain = skip === '*' || skip === 'true' ? true : skip.split(',');
  for (const [key, name] of [
    ['canaries', 'canaries'],
    ['max_in_flight', 'maxInFlight'],
  ] as const) {
    const value = q.get(key);
    if (value === null || value === '') continue;
    if (!/^\d+%?$/.test(value))
      throw new ValidationInvalidType(`${key} '${value}' is not a count or a percentage`);
    options[name] = value.endsWith('%') ? value : Number(value);
  }
  const strategy = q.get('strategy') ?? q.get('update_stemcell_strategy');
  if (strategy !== null && strategy !== '') {
    if (strategy !== 'reload' && strategy !== 'recreate')
      throw new ValidationInvalidType(`strategy '${strategy}' is not reload or recreate`);
    options.stemcellStrategy = strategy;
  }
  // A reload to an older stemcell (else such instances are recreated from the IaaS stemcell).
  if (flag(q, 'allow_downgrade')) options.allowDowngrade = true;
  return options;
}

async function enqueueDeploy(
  deps: RouteDeps,
  request: RouteRequest,
  params: Omit<DeployParams, 'lockHeld'>,
): Promise<number> {
  const held = await lockHolder(deps.db, params.deployment);
  return deps.tasks.enqueue({
    type: UPDATE_DEPLOYMENT,
    description: 'create deployment',
    user: request.user,
    deployment: params.deployment,
    params: { ...params, lockHeld: held },
    // A refused deploy takes no lock: it only reports who holds it.
    locks: held ? [] : [lockName(params.deployment)],
  });
}

function redacted(value: unknown, underProperties = false): unknown {
  if (Array.isArray(value)) return value.map((v) => redacted(v, underProperties));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redacted(v, underProperties || k === 'properties')]),
    );
  }
  return underProperties ? '<redacted>' : value;
}

function manifestLines(text: string | null, redact: boolean): string[] {
  if (text === null || text.trim() === '') return [];
  const doc: unknown = parse(text);
  return stringify(redact ? redacted(doc) : doc)
    .trimEnd()
    .split('\n');
}

export function deploymentRoutes(deps: RouteDeps): Route[] {
  const store = new DeploymentStore(deps.db);
  const found = async (name: string) => {
    const d = await store.get(name);
    if (d === null) throw new DeploymentNotFound(`Deployment '${name}' doesn't exist`);
    return d;
  };
  const stateRoute = (path: string): Route => ({
    method: 'PUT',
    path,
    async handle(request) {
      const name = request.params.deployment ?? '';
      const state = request.query.get('state') ?? '';
      if (!['started', 'stopped', 'detached', 'restart', 'recreate'].includes(state)) {
        throw new ValidationInvalidType(
          `state '${state}' is not one of started, stopped, detached, restart, recreate`,
        );
      }
      const body = await readText(request, 16 * 1024 * 1024);
      const deployment = await found(name);
      const manifest = body.trim() === '' ? deployment.manifest : body;
      if (manifest === null) throw new DeploymentNotFound(`Deployment '${name}' has no manifest yet`);
      const options = deployOptions(request.query);
      const group = request.params.group ?? '*';
      const instance = request.params.id;
      const taskId = await enqueueDeploy(deps, request, {
        deployment: name,
        manifest,
        dryRun: flag(request.query, 'dry_run'),
        options: {
          ...options,
          instanceStateOverrides: [
            { group, ...(instance !== undefined ? { instance } : {}), state: state as 'started' },
          ],
        },
      });
      return { kind: 'task', taskId };
    },
  });

  return [
    {
      method: 'GET',
      path: '/deployments',
      async handle(request) {
        const q = request.query;
        const latestCloud = await new ConfigStore(deps.db).latest('cloud', 'default');
        const stemcells = await new StemcellStore(deps.db).list();
        const usages = await new StemcellStore(deps.db).allUsages();
        const releaseRows = await deps.db.query<{ deployment: string; name: string; version: string }>(
          `SELECT u.deployment AS deployment, r.name AS name, v.version AS version FROM release_version_usages u
           JOIN release_versions v ON v.id = u.release_version_id JOIN releases r ON r.id = v.release_id ORDER BY r.name, v.version`,
        );
        const locks = await deps.db.query<{ name: string }>('SELECT name FROM task_locks');
        const out = [];
        for (const d of await store.list()) {
          const item: Record<string, unknown> = { name: d.name, teams: [] };
          if (!flag(q, 'exclude_configs')) {
            item.cloud_config =
              latestCloud === null ? 'none' : d.cloudConfigId === latestCloud.id ? 'latest' : 'outdated';
          }
          if (!flag(q, 'exclude_releases')) {
            item.releases = releaseRows
              .filter((r) => r.deployment === d.name)
              .map((r) => ({ name: r.name, version: r.version }));
          }
          if (!flag(q, 'exclude_stemcells')) {
            item.stemcells = stemcells
              .filter((s) => usages.get(s.id)?.includes(d.name))
              .map((s) => ({ name: s.name, version: s.version }));
          }
          if (!flag(q, 'exclude_lock')) item.locked = locks.some((l) => l.name === lockName(d.name));
          out.push(item);
        }
        return { kind: 'json', body: out };
      },
    },
    {
      method: 'POST',
      path: '/deployments',
      async handle(request) {
        const manifest = await readText(request, 16 * 1024 * 1024);
        const name = manifestName(manifest);
        const taskId = await enqueueDeploy(deps, request, {
          deployment: name,
          manifest,
          dryRun: flag(request.query, 'dry_run'),
          options: deployOptions(request.query),
        });
        return { kind: 'task', taskId };
      },
    },
    {
      method: 'GET',
      path: '/deployments/:deployment',
      async handle(request) {
        const d = await found(request.params.deployment ?? '');
        return { kind: 'json', body: { manifest: d.manifest ?? '' } };
      },
    },
    {
      method: 'DELETE',
      path: '/deployments/:deployment',
      async handle(request) {
        const name = request.params.deployment ?? '';
        await found(name);
        const held = await lockHolder(deps.db, name);
        const taskId = await deps.tasks.enqueue({
          type: DELETE_DEPLOYMENT,
          description: `delete deployment ${name}`,
          user: request.user,
          deployment: name,
          params: { deployment: name, force: flag(request.query, 'force'), lockHeld: held },
          locks: held ? [] : [lockName(name)],
        });
        return { kind: 'task', taskId };
      },
    },
    {
      method: 'POST',
      path: '/deployments/:deployment/diff',
      async handle(request) {
        const text = await readText(request, 16 * 1024 * 1024);
        const redact = request.query.get('redact') !== 'false';
        try {
          const before = await store.get(request.params.deployment ?? '');
          const cloud = await new ConfigStore(deps.db).latest('cloud', 'default');
          return {
            kind: 'json',
            body: {
              context: { cloud_config_ids: cloud ? [cloud.id] : [], runtime_config_ids: [] },
              diff: lineDiff(manifestLines(before?.manifest ?? null, redact), manifestLines(text, redact)),
            },
          };
        } catch (error) {
          // BOSH answers 200 with the error: the CLI shows it and still deploys.
          return { kind: 'json', body: { diff: [], error: (error as Error).message } };
        }
      },
    },
    ...(['vms', 'instances'] as const).map((kind): Route => ({
      method: 'GET',
      path: `/deployments/:deployment/${kind}`,
      async handle(request) {
        const name = request.params.deployment ?? '';
        await found(name);
        if (request.query.get('format') === 'full') {
          const taskId = await deps.tasks.enqueue({
            type: VMS_TASK,
            description: 'retrieve vm-stats',
            user: request.user,
            deployment: name,
            params: { deployment: name, perInstance: kind === 'instances' },
          });
          return { kind: 'task', taskId };
        }
        const instances = await store.instances(name);
        const rows = instances
          .filter((i) => kind === 'instances' || i.vm !== null)
          .map((i) => ({
            agent_id: i.vm?.agentId ?? null,
            cid: i.vm?.cid ?? null,
            job: i.group,
            index: i.index,
            id: i.id,
            az: i.az,
            ips: ipsOf(i),
            vm_created_at: i.vm?.createdAt ?? null,
            ...(kind === 'vms'
              ? { active: true, permanent_nats_credentials: false }
              : {
                  expects_vm: i.state !== 'detached',
                  // Beyond BOSH's listing (its `format=full` names): lets refit-hm skip
                  // stateful instances as scan_and_fix does.
                  disk_cid: i.disk?.cid ?? null,
                  disk_cids: i.disk === null ? [] : [i.disk.cid],
                }),
          }));
        return { kind: 'json', body: rows };
      },
    })),
    stateRoute('/deployments/:deployment/jobs/:group'),
    stateRoute('/deployments/:deployment/jobs/:group/:id'),
    // `errands` is the errands feature's (errands/errand-routes.ts).
    ...(['variables'] as const).map((kind): Route => ({
      method: 'GET',
      path: `/deployments/:deployment/${kind}`,
      async handle(request) {
        await found(request.params.deployment ?? '');
        return { kind: 'json', body: [] };
      },
    })),
  ];
}
