import { randomUUID } from 'node:crypto';
import type { ApplySpecPackage } from '@refit/protocol';
import type { AgentClient } from '../agent-client/agent-client.ts';
import { resolveAgentBlob } from '../blobs-for-agents/agent-blob-names.ts';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import { dependencyKey } from '../compiled-packages/dependency-key.ts';
import type { Cloud, CpiCallLog } from '../cpi-client/cloud.ts';
import type { Db } from '../db/db.ts';
import { DirectorError } from '../errors.ts';
import type { Hash } from '../manifests/compile-cloud-config.ts';
import { DbIpReservationStore, findFreeIp, formatIpv4, parseIpv4 } from '../networking/index.ts';
import { deepMerge } from '../planner/deep-equal.ts';
import type { NetworkSettings } from '../planner/plan-types.ts';
import { compileOrder } from '../releases/package-dependencies.ts';
import type { PackageRecord } from '../releases/release-store.ts';
import type { EventLog } from '../tasks/task-context.ts';
import { cpiNetworks, vmCidOf } from '../updater/create-vm-step.ts';
import type { PreparedDeployment } from './prepare-deployment.ts';

export class PackageCompilationFailed extends DirectorError {
  static readonly code = 60001;
  constructor(message: string, options?: ErrorOptions) {
    super(60001, 500, message, options);
  }
}

export interface CompileDeps {
  readonly db: Db;
  readonly cloud: Cloud;
  readonly agents: AgentClient;
  readonly events: EventLog;
  readonly cpiLog: CpiCallLog;
  readonly signal: AbortSignal;
  readonly agentEnv: Hash;
  readonly directorName: string;
  readonly agentWaitTimeoutMs?: number;
}

/** Stemcell alias → package name → the compiled package the apply spec names. */
export type CompiledPackages = ReadonlyMap<string, ReadonlyMap<string, ApplySpecPackage>>;

interface Needed {
  readonly alias: string;
  readonly pkg: PackageRecord;
  readonly releasePackages: readonly PackageRecord[];
}

/**
 * `Preparing package compilation` → `Compiling packages` (reference §4.3 step 2): every package
 * the deployment's jobs need, with their dependencies, per stemcell. Packages already compiled
 * for that stemcell (same OS, exact version else the newest of the same major line) are used
 * as they are; the rest are compiled in dependency order, each on its own compilation VM from
 * the cloud config's `compilation` block, which is deleted afterwards.
 */
export async function compilePackages(
  deps: CompileDeps,
  prepared: PreparedDeployment,
): Promise<CompiledPackages> {
  const store = new CompiledPackageStore(deps.db);
  const result = new Map<string, Map<string, ApplySpecPackage>>();
  const needed: Needed[] = [];
  for (const group of prepared.plan.instanceGroups) {
    if (group.lifecycle !== 'service') continue;
    const alias = group.group.stemcell.alias;
    const seen = needed.filter((n) => n.alias === alias).map((n) => n.pkg.name);
    for (const release of prepared.releases.values()) {
      const jobNames = group.group.jobs
        .filter((j) => j.release === release.release.releaseName)
        .map((j) => j.name);
      const direct = release.jobs.filter((j) => jobNames.includes(j.name)).flatMap((j) => j.packageNames);
      if (direct.length === 0) continue;
      const order = compileOrder(release.packages.filter((p) => direct.includes(p.name)).map((p) => p));
      const all = compileOrder(release.packages);
      const wanted = all.filter((name) => order.includes(name) || dependsOn(release.packages, direct, name));
      for (const name of wanted) {
        const pkg = release.packages.find((p) => p.name === name);
        if (pkg && !seen.includes(name)) {
          seen.push(name);
          needed.push({ alias, pkg, releasePackages: release.packages });
        }
      }
    }
  }

  const prep = deps.events.stage('Preparing package compilation', { total: 1 });
  const toCompile = await prep.task('Finding packages to compile', async () => {
    const missing: Needed[] = [];
    for (const n of needed) {
      const stemcell = prepared.stemcells.get(n.alias);
      if (!stemcell) continue;
      const found = await store.find({
        fingerprint: n.pkg.fingerprint,
        dependencyKey: dependencyKey(n.pkg.name, n.releasePackages),
        stemcellOs: stemcell.operatingSystem,
        stemcellVersion: stemcell.version,
      });
      if (found) setPackage(result, n.alias, n.pkg, { sha1: found.sha1, blobstoreId: found.blobstoreId });
      else if (n.pkg.blobstoreId === null || n.pkg.sha1 === null) {
        throw new PackageCompilationFailed(
          `Can't use release: package '${n.pkg.name}/${n.pkg.version}' is compiled for no stemcell matching '${stemcell.operatingSystem}/${stemcell.version}'`,
        );
      } else missing.push(n);
    }
    return missing;
  });
  if (toCompile.length === 0) return result;

  const compiling = deps.events.stage('Compiling packages', { total: toCompile.length });
  for (const n of toCompile) {
    await compiling.task(`${n.pkg.name}/${n.pkg.version}`, async () => {
      const blob = await compileOne(deps, prepared, n, result);
      const stemcell = prepared.stemcells.get(n.alias);
      if (!stemcell) return;
      const { record } = await store.insert({
        packageName: n.pkg.name,
        fingerprint: n.pkg.fingerprint,
        dependencyKey: dependencyKey(n.pkg.name, n.releasePackages),
        stemcellOs: stemcell.operatingSystem,
        stemcellVersion: stemcell.version,
        sha1: blob.sha1,
        blobstoreId: blob.blobstoreId,
      });
      setPackage(result, n.alias, n.pkg, { sha1: record.sha1, blobstoreId: record.blobstoreId });
    });
  }
  return result;
}

function dependsOn(packages: readonly PackageRecord[], roots: readonly string[], name: string): boolean {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const seen = new Set<string>();
  const walk = (n: string): boolean => {
    if (seen.has(n)) return false;
    seen.add(n);
    const deps = byName.get(n)?.dependencies ?? [];
    return deps.includes(name) || deps.some(walk);
  };
  return roots.some(walk);
}

function setPackage(
  result: Map<string, Map<string, ApplySpecPackage>>,
  alias: string,
  pkg: PackageRecord,
  blob: { sha1: string; blobstoreId: string },
) {
  const map = result.get(alias) ?? new Map<string, ApplySpecPackage>();
  map.set(pkg.name, {
    name: pkg.name,
    version: pkg.version,
    sha1: blob.sha1,
    blobstore_id: blob.blobstoreId,
  });
  result.set(alias, map);
}

/** One compilation VM: create, wait for its agent, `compile_package`, delete (always). */
async function compileOne(
  deps: CompileDeps,
  prepared: PreparedDeployment,
  n: Needed,
  compiled: ReadonlyMap<string, ReadonlyMap<string, ApplySpecPackage>>,
): Promise<{ sha1: string; blobstoreId: string }> {
  const compilation = prepared.cloudConfig.compilation;
  const stemcell = prepared.stemcells.get(n.alias);
  if (compilation === null)
    throw new PackageCompilationFailed('cloud config has no compilation block: packages cannot be compiled');
  if (!stemcell) throw new PackageCompilationFailed(`no stemcell for alias '${n.alias}'`);
  const instanceId = `compilation-${randomUUID()}`;
  const reservations = new DbIpReservationStore(deps.db);
  const network = await compilationNetwork(deps, prepared, instanceId);
  const azProps =
    compilation.az === null ? {} : (prepared.cloudConfig.azs.get(compilation.az)?.cloudProperties ?? {});
  const vmProps =
    compilation.vmType !== null
      ? (prepared.cloudConfig.vmTypes.get(compilation.vmType)?.cloudProperties ?? {})
      : compilation.cloudProperties;
  const agentId = randomUUID();
  const cpiOptions = {
    signal: deps.signal,
    log: deps.cpiLog,
    ...(stemcell.apiVersion !== null ? { stemcellApiVersion: stemcell.apiVersion } : {}),
  };
  let cid: string | null = null;
  try {
    const created = await deps.cloud.call(
      'create_vm',
      [
        agentId,
        stemcell.cid,
        deepMerge(azProps, vmProps),
        cpiNetworks(network),
        [],
        { ...compilation.env, bosh: { ...deps.agentEnv } },
      ],
      cpiOptions,
    );
    cid = vmCidOf(created);
    await deps.cloud.call(
      'set_vm_metadata',
      [cid, { director: deps.directorName, deployment: prepared.compiled.name, compiling: n.pkg.name }],
      cpiOptions,
    );
    await deps.agents.waitUntilReady(agentId, cid, {
      signal: deps.signal,
      timeoutMs: deps.agentWaitTimeoutMs ?? 600_000,
    });
    const dependencies: Record<string, ApplySpecPackage> = {};
    const closure = transitiveDependencies(n.releasePackages, n.pkg.name);
    for (const dep of closure) {
      const found = compiled.get(n.alias)?.get(dep);
      if (!found)
        throw new PackageCompilationFailed(`dependency '${dep}' of '${n.pkg.name}' was not compiled first`);
      dependencies[dep] = found;
    }
    const answer = await deps.agents.call(
      agentId,
      'compile_package',
      [n.pkg.blobstoreId ?? '', n.pkg.sha1 ?? '', n.pkg.name, n.pkg.version, dependencies],
      { signal: deps.signal, replyTimeoutMs: 45_000 },
    );
    const blobId = await resolveAgentBlob(deps.db, answer.result.blobstore_id);
    if (blobId === null) {
      throw new PackageCompilationFailed(
        `the compiled '${n.pkg.name}' the agent reports (${answer.result.blobstore_id}) was not uploaded`,
      );
    }
    return { sha1: answer.result.sha1, blobstoreId: blobId };
  } finally {
    if (cid !== null)
      await deps.cloud.call('delete_vm', [cid], { signal: AbortSignal.timeout(120_000), log: deps.cpiLog });
    await reservations.releaseInstance(prepared.compiled.name, instanceId);
  }
}

function transitiveDependencies(packages: readonly PackageRecord[], name: string): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const out: string[] = [];
  const walk = (n: string) => {
    for (const d of byName.get(n)?.dependencies ?? []) {
      if (!out.includes(d)) {
        out.push(d);
        walk(d);
      }
    }
  };
  walk(name);
  return out;
}

/** The compilation network's settings, with a free address reserved on a manual network. */
async function compilationNetwork(
  deps: CompileDeps,
  prepared: PreparedDeployment,
  instanceId: string,
): Promise<NetworkSettings> {
  const compilation = prepared.cloudConfig.compilation;
  const network = compilation ? prepared.cloudConfig.networks.get(compilation.network) : undefined;
  if (!compilation || !network)
    throw new PackageCompilationFailed(`compilation network '${compilation?.network ?? ''}' not found`);
  if (network.type !== 'manual') {
    return {
      [network.name]: {
        type: network.type === 'vip' ? 'vip' : 'dynamic',
        ip: null,
        netmask: null,
        gateway: null,
        dns: [],
        default: ['dns', 'gateway'],
        cloudProperties:
          network.type === 'vip' ? network.cloudProperties : (network.subnets[0]?.cloudProperties ?? {}),
      },
    };
  }
  const rows = await deps.db.query<{ ip: string }>('SELECT ip FROM ip_reservations WHERE network = $1', [
    network.name,
  ]);
  const taken = new Set(rows.map((r) => parseIpv4(r.ip)).filter((ip): ip is number => ip !== null));
  const found = findFreeIp(network.subnets, compilation.az, taken);
  if (!found)
    throw new PackageCompilationFailed(`no free address on network '${network.name}' for a compilation VM`);
  const ip = formatIpv4(found.ip);
  await new DbIpReservationStore(deps.db).apply({
    add: [{ deployment: prepared.compiled.name, instanceId, network: network.name, ip, type: 'dynamic' }],
    release: [],
  });
  return {
    [network.name]: {
      type: 'manual',
      ip,
      netmask: formatIpv4(found.subnet.cidr.netmask),
      gateway: formatIpv4(found.subnet.gateway),
      dns: [...found.subnet.dns],
      default: ['dns', 'gateway'],
      cloudProperties: found.subnet.cloudProperties,
    },
  };
}
