import type { ApplySpecPackage } from '@refit/protocol';
import { resolveAgentBlob } from '../blobs-for-agents/agent-blob-names.ts';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import { dependencyKey } from '../compiled-packages/dependency-key.ts';
import {
  CompilationVmPool,
  deleteLeftoverCompilationVms,
  type CompilationVm,
  type CompilationVmDeps,
} from '../compilation/compilation-vm-pool.ts';
import { PackageCompilationFailed } from '../compilation/package-compilation-failed.ts';
import { runInDependencyOrder } from '../compilation/run-in-dependency-order.ts';
import { compileOrder } from '../releases/package-dependencies.ts';
import type { PackageRecord } from '../releases/release-store.ts';
import type { EventLog } from '../tasks/task-context.ts';
import type { PreparedDeployment } from './prepare-deployment.ts';

export { PackageCompilationFailed };

export interface CompileDeps extends CompilationVmDeps {
  readonly events: EventLog;
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
    // Errand groups only when they were rendered (`run-errand`).
    if (group.lifecycle !== 'service' && !group.instances.some((i) => prepared.instances.has(i.id))) continue;
    const alias = group.group.stemcell.alias;
    const seen = needed.filter((n) => n.alias === alias).map((n) => n.pkg.name);
    for (const release of prepared.releases.values()) {
      const jobNames = group.group.jobs
        .filter((j) => j.release === release.release.releaseName)
        .map((j) => j.name);
      const direct = release.jobs.filter((j) => jobNames.includes(j.name)).flatMap((j) => j.packageNames);
      if (direct.length === 0) continue;
      // The jobs' packages and everything they depend on (a job need not list its packages' dependencies).
      const wanted = compileOrder(release.packages).filter(
        (name) => direct.includes(name) || dependsOn(release.packages, direct, name),
      );
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
    // What an interrupted deploy of this deployment left (recorded in compilation_vms) goes first.
    await deleteLeftoverCompilationVms(deps, prepared.compiled.name);
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
  if (prepared.cloudConfig.compilation === null)
    throw new PackageCompilationFailed('cloud config has no compilation block: packages cannot be compiled');

  // Up to `workers` packages at once, each after the packages it depends on (same stemcell).
  const compiling = deps.events.stage('Compiling packages', { total: toCompile.length });
  const pool = new CompilationVmPool(deps, prepared.cloudConfig, prepared.compiled.name);
  const keyOf = (n: Needed) => `${n.alias}/${n.pkg.name}`;
  try {
    await runInDependencyOrder(toCompile, {
      workers: prepared.cloudConfig.compilation.workers,
      key: keyOf,
      dependencies: (n) => n.pkg.dependencies.map((d) => `${n.alias}/${d}`),
      signal: deps.signal,
      run: (n) =>
        compiling.task(`${n.pkg.name}/${n.pkg.version}`, async () => {
          const stemcell = prepared.stemcells.get(n.alias);
          if (!stemcell) throw new PackageCompilationFailed(`no stemcell for alias '${n.alias}'`);
          const blob = await pool.withVm(stemcell, n.pkg.name, (vm) => compileOn(deps, vm, n, result));
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
        }),
    });
  } finally {
    await pool.deleteAll();
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

/** `compile_package` on a ready compilation VM, with the compiled dependencies it needs. */
async function compileOn(
  deps: CompileDeps,
  vm: CompilationVm,
  n: Needed,
  compiled: ReadonlyMap<string, ReadonlyMap<string, ApplySpecPackage>>,
): Promise<{ sha1: string; blobstoreId: string }> {
  const dependencies: Record<string, ApplySpecPackage> = {};
  for (const dep of transitiveDependencies(n.releasePackages, n.pkg.name)) {
    const found = compiled.get(n.alias)?.get(dep);
    if (!found)
      throw new PackageCompilationFailed(`dependency '${dep}' of '${n.pkg.name}' was not compiled first`);
    dependencies[dep] = found;
  }
  const answer = await deps.agents.call(
    vm.agentId,
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
