import { DeploymentManifest, type ManifestInstanceGroup } from '@refit/protocol';
import type { CompiledCloudConfig, Hash } from './compile-cloud-config.ts';
import { compileGroupNetworks } from './compile-group-networks.ts';
import { ProblemList } from './manifest-invalid.ts';
import { parseDocument } from './parse-document.ts';
import { compileDeploymentUpdate, mergeGroupUpdate, type CompiledUpdate } from './update-config.ts';
import { latestOf } from './version-order.ts';

/** What the director has uploaded: the manifest's names and versions are checked against it. */
export interface AvailableArtifacts {
  readonly releases: readonly { readonly name: string; readonly version: string }[];
  readonly stemcells: readonly {
    readonly name: string;
    readonly version: string;
    readonly operatingSystem: string;
  }[];
}

export interface ResolvedStemcell {
  readonly alias: string;
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
}

export interface CompiledRelease {
  readonly name: string;
  /** `latest` resolved to the newest uploaded version. */
  readonly version: string;
  readonly url: string | null;
  readonly sha1: string | null;
}

export interface CompiledJob {
  readonly name: string;
  readonly release: string;
  readonly properties: Hash;
  readonly consumes: Hash;
  readonly provides: Hash;
  readonly customProviderDefinitions: readonly Hash[];
}

export interface CompiledGroupNetwork {
  readonly name: string;
  readonly type: 'manual' | 'dynamic' | 'vip';
  /** Static IPs with ranges expanded, in the manifest's order. */
  readonly staticIps: readonly number[];
  /** `dns` / `gateway` / `addressable` this network is the default for. */
  readonly default: readonly string[];
}

export interface CompiledPersistentDisk {
  readonly size: number;
  readonly type: string | null;
  readonly cloudProperties: Hash;
}

export interface CompiledInstanceGroup {
  readonly name: string;
  readonly lifecycle: 'service' | 'errand';
  /** In the manifest's order; empty when the group uses no AZ. */
  readonly azs: readonly string[];
  readonly instances: number;
  readonly jobs: readonly CompiledJob[];
  readonly vmType: string | null;
  readonly vmResources: {
    readonly cpu: number;
    readonly ram: number;
    readonly ephemeralDiskSize: number;
  } | null;
  readonly vmExtensions: readonly string[];
  readonly stemcell: ResolvedStemcell;
  readonly persistentDisk: CompiledPersistentDisk | null;
  readonly networks: readonly CompiledGroupNetwork[];
  readonly update: CompiledUpdate;
  readonly env: Hash;
  /** Deployment tags overlaid with the group's. */
  readonly tags: Readonly<Record<string, string>>;
  readonly migratedFrom: readonly { readonly name: string; readonly az: string | null }[];
}

/** A deployment manifest validated against a cloud config and the uploaded artifacts. */
export interface CompiledDeployment {
  readonly name: string;
  readonly releases: readonly CompiledRelease[];
  readonly stemcells: ReadonlyMap<string, ResolvedStemcell>;
  readonly update: CompiledUpdate;
  readonly instanceGroups: readonly CompiledInstanceGroup[];
  readonly properties: Hash;
  readonly tags: Readonly<Record<string, string>>;
  readonly features: Readonly<Record<string, boolean>>;
  readonly cloudConfig: CompiledCloudConfig;
}

const DOCUMENT = 'deployment manifest';

export interface CompileManifestInput {
  /** YAML text or an already-parsed value. */
  readonly manifest: unknown;
  readonly cloudConfig: CompiledCloudConfig;
  readonly available: AvailableArtifacts;
}

/** Parses and validates a manifest v2; every problem is reported with its path (ManifestInvalid). */
export function compileManifest(input: CompileManifestInput): CompiledDeployment {
  const raw = parseDocument(DeploymentManifest, input.manifest, DOCUMENT);
  const cloud = input.cloudConfig;
  const problems = new ProblemList();

  (raw.variables ?? []).forEach((v, i) =>
    problems.add(
      `variables[${i}]`,
      `variable '${v.name}' cannot be generated: Refit has no config server yet; pass the value with --var or a vars file`,
    ),
  );
  (raw.addons ?? []).forEach((_, i) =>
    problems.add(`addons[${i}]`, 'addons are not supported yet; add the jobs to the instance groups instead'),
  );

  const releases = raw.releases.map((r, i): CompiledRelease => {
    const uploaded = input.available.releases.filter((a) => a.name === r.name).map((a) => a.version);
    let version = r.version;
    if (version === 'latest') {
      version = latestOf(uploaded) ?? 'latest';
      if (uploaded.length === 0) problems.add(`releases[${i}]`, `release '${r.name}' has not been uploaded`);
    } else if (!uploaded.includes(version)) {
      problems.add(`releases[${i}]`, `release '${r.name}/${version}' has not been uploaded`);
    }
    if (raw.releases.findIndex((o) => o.name === r.name) !== i) {
      problems.add(`releases[${i}].name`, `duplicate release '${r.name}'`);
    }
    return { name: r.name, version, url: r.url ?? null, sha1: r.sha1 ?? null };
  });

  const stemcells = new Map<string, ResolvedStemcell>();
  (raw.stemcells ?? []).forEach((s, i) => {
    const path = `stemcells[${i}]`;
    if (stemcells.has(s.alias)) problems.add(`${path}.alias`, `duplicate alias '${s.alias}'`);
    if ((s.os === undefined) === (s.name === undefined)) {
      problems.add(path, "give exactly one of 'os' or 'name'");
      return;
    }
    const candidates = input.available.stemcells.filter((u) =>
      s.os !== undefined ? u.operatingSystem === s.os : u.name === s.name,
    );
    const what = s.os !== undefined ? `os '${s.os}'` : `'${s.name ?? ''}'`;
    const version = s.version === 'latest' ? latestOf(candidates.map((c) => c.version)) : s.version;
    const found = candidates.find((c) => c.version === version);
    if (found === undefined) {
      problems.add(path, `no stemcell ${what} version '${s.version}' has been uploaded`);
      return;
    }
    stemcells.set(s.alias, {
      alias: s.alias,
      name: found.name,
      version: found.version,
      operatingSystem: found.operatingSystem,
    });
  });

  const update = compileDeploymentUpdate(raw.update, problems);
  const tags = raw.tags ?? {};
  const releaseNames = new Set(raw.releases.map((r) => r.name));
  const staticOwners = new Map<string, string>();

  const instanceGroups: CompiledInstanceGroup[] = [];
  raw.instance_groups.forEach((g, i) => {
    const path = `instance_groups[${i}]`;
    if (raw.instance_groups.findIndex((o) => o.name === g.name) !== i) {
      problems.add(`${path}.name`, `duplicate instance group '${g.name}'`);
    }
    const group = compileGroup(g, path, {
      cloud,
      problems,
      update,
      tags,
      releaseNames,
      stemcells,
      staticOwners,
    });
    if (group) instanceGroups.push(group);
  });

  problems.throwIfAny(DOCUMENT);
  return {
    name: raw.name,
    releases,
    stemcells,
    update,
    instanceGroups,
    properties: raw.properties ?? {},
    tags,
    features: Object.fromEntries(
      Object.entries(raw.features ?? {}).filter((e): e is [string, boolean] => e[1] !== undefined),
    ),
    cloudConfig: cloud,
  };
}

export interface GroupContext {
  readonly cloud: CompiledCloudConfig;
  readonly problems: ProblemList;
  readonly update: CompiledUpdate;
  readonly tags: Readonly<Record<string, string>>;
  readonly releaseNames: ReadonlySet<string>;
  readonly stemcells: ReadonlyMap<string, ResolvedStemcell>;
  /** `<network>/<ip>` → the path that first listed it, across all groups. */
  readonly staticOwners: Map<string, string>;
}

function compileGroup(
  g: ManifestInstanceGroup,
  path: string,
  ctx: GroupContext,
): CompiledInstanceGroup | null {
  const { cloud, problems } = ctx;
  const azs = g.azs ?? [];
  if (g.azs === undefined && cloud.azs.size > 0)
    problems.add(`${path}.azs`, 'is required: the cloud config defines azs');
  if (g.azs !== undefined && g.azs.length === 0) problems.add(`${path}.azs`, 'must name at least one az');
  azs.forEach((az, j) => {
    if (!cloud.azs.has(az)) problems.add(`${path}.azs[${j}]`, `unknown az '${az}'`);
    if (azs.indexOf(az) !== j) problems.add(`${path}.azs[${j}]`, `az '${az}' is listed twice`);
  });

  if ((g.vm_type === undefined) === (g.vm_resources === undefined)) {
    problems.add(path, "give exactly one of 'vm_type' or 'vm_resources'");
  }
  if (g.vm_type !== undefined && !cloud.vmTypes.has(g.vm_type)) {
    problems.add(`${path}.vm_type`, `unknown vm_type '${g.vm_type}'`);
  }
  (g.vm_extensions ?? []).forEach((e, j) => {
    if (!cloud.vmExtensions.has(e))
      problems.add(`${path}.vm_extensions[${j}]`, `unknown vm_extension '${e}'`);
  });

  const stemcell = ctx.stemcells.get(g.stemcell);
  if (stemcell === undefined) problems.add(`${path}.stemcell`, `unknown stemcell alias '${g.stemcell}'`);

  let persistentDisk: CompiledPersistentDisk | null = null;
  if (g.persistent_disk !== undefined && g.persistent_disk_type !== undefined) {
    problems.add(path, "use either 'persistent_disk' or 'persistent_disk_type', not both");
  } else if (g.persistent_disk_type !== undefined) {
    const type = cloud.diskTypes.get(g.persistent_disk_type);
    if (type === undefined)
      problems.add(`${path}.persistent_disk_type`, `unknown disk_type '${g.persistent_disk_type}'`);
    else persistentDisk = { size: type.diskSize, type: type.name, cloudProperties: type.cloudProperties };
  } else if (g.persistent_disk !== undefined && g.persistent_disk > 0) {
    persistentDisk = { size: g.persistent_disk, type: null, cloudProperties: {} };
  }

  const jobs = g.jobs.map((job, j) => {
    if (!ctx.releaseNames.has(job.release)) {
      problems.add(
        `${path}.jobs[${j}].release`,
        `release '${job.release}' is not in the manifest's releases`,
      );
    }
    if (g.jobs.findIndex((o) => o.name === job.name) !== j) {
      problems.add(`${path}.jobs[${j}].name`, `job '${job.name}' is listed twice`);
    }
    return {
      name: job.name,
      release: job.release,
      properties: job.properties ?? {},
      consumes: job.consumes ?? {},
      provides: job.provides ?? {},
      customProviderDefinitions: job.custom_provider_definitions ?? [],
    };
  });

  const networks = compileGroupNetworks(g, path, azs, ctx);
  (g.migrated_from ?? []).forEach((m, j) => {
    if (m.az !== undefined && !cloud.azs.has(m.az))
      problems.add(`${path}.migrated_from[${j}].az`, `unknown az '${m.az}'`);
  });

  if (stemcell === undefined) return null;
  return {
    name: g.name,
    lifecycle: g.lifecycle ?? 'service',
    azs,
    instances: g.instances,
    jobs,
    vmType: g.vm_type ?? null,
    vmResources: g.vm_resources
      ? {
          cpu: g.vm_resources.cpu,
          ram: g.vm_resources.ram,
          ephemeralDiskSize: g.vm_resources.ephemeral_disk_size,
        }
      : null,
    vmExtensions: g.vm_extensions ?? [],
    stemcell,
    persistentDisk,
    networks,
    update: mergeGroupUpdate(ctx.update, g.update, `${path}.update`, problems),
    env: g.env ?? {},
    tags: { ...ctx.tags, ...(g.tags ?? {}) },
    migratedFrom: (g.migrated_from ?? []).map((m) => ({ name: m.name, az: m.az ?? null })),
  };
}
