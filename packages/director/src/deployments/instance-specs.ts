import { createHash } from 'node:crypto';
import type { ApplySpec } from '@refit/protocol';
import type { CompiledInstanceGroup } from '../manifests/compile-manifest.ts';
import type { InstancePlan } from '../planner/plan-types.ts';
import type { ReleaseVersionContents } from '../releases/release-lookup.ts';
import type { JobRecord, PackageRecord } from '../releases/release-store.ts';
import type { RenderedInstance, TemplateInstanceSpec } from '../templates/index.ts';
import { cpiNetworks } from '../updater/create-vm-step.ts';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** The release jobs and packages an instance group runs, resolved against the uploaded releases. */
export interface GroupContents {
  readonly jobs: readonly { readonly job: JobRecord; readonly release: ReleaseVersionContents }[];
  /** Package name → its record and its release's packages (for the dependency key). */
  readonly packages: ReadonlyMap<
    string,
    { readonly pkg: PackageRecord; readonly release: ReleaseVersionContents }
  >;
}

export function groupContents(
  group: CompiledInstanceGroup,
  releases: ReadonlyMap<string, ReleaseVersionContents>,
): GroupContents {
  const jobs = group.jobs.map((j) => {
    const release = releases.get(j.release);
    const job = release?.jobs.find((r) => r.name === j.name);
    if (release === undefined || job === undefined) {
      throw new Error(`instance group '${group.name}': job '${j.name}' not found in release '${j.release}'`);
    }
    return { job, release };
  });
  const packages = new Map<string, { pkg: PackageRecord; release: ReleaseVersionContents }>();
  for (const { job, release } of jobs) {
    for (const name of job.packageNames) {
      const pkg = release.packages.find((p) => p.name === name);
      if (pkg !== undefined && !packages.has(name)) packages.set(name, { pkg, release });
    }
  }
  return { jobs, packages };
}

/** The hashes the planner compares (reference §4.2 `packages`, `job`); stable across deploys. */
export function contentHashes(contents: GroupContents): { packages: string; job: string } {
  const packages = [...contents.packages.values()].map(({ pkg }) => `${pkg.name}/${pkg.fingerprint}`).sort();
  const jobs = contents.jobs.map(({ job }) => `${job.name}/${job.fingerprint}`).sort();
  return { packages: sha1(packages.join('\n')), job: sha1(jobs.join('\n')) };
}

/** `spec` as templates see it. The address is the default network's IP. */
export function templateSpec(
  deployment: string,
  plan: InstancePlan,
  bootstrap: boolean,
): TemplateInstanceSpec {
  const networks = cpiNetworks(plan.networkSettings);
  const entries = Object.entries(plan.networkSettings);
  const addressable =
    entries.find(([, n]) => n.default.includes('addressable')) ??
    entries.find(([, n]) => n.default.includes('gateway')) ??
    entries[0];
  const ip = addressable?.[1].ip ?? null;
  return {
    deployment,
    name: plan.group,
    id: plan.id,
    index: plan.index,
    az: plan.az,
    bootstrap,
    address: ip,
    ip,
    networks,
    persistentDisk: plan.persistentDisk?.size ?? 0,
  };
}

/** The apply spec (reference §3.4); `packages` are filled in once compiled. */
export function applySpecFor(args: {
  readonly deployment: string;
  readonly plan: InstancePlan;
  readonly contents: GroupContents;
  readonly rendered: RenderedInstance;
  readonly packages: ApplySpec['packages'];
}): ApplySpec {
  const { plan, rendered } = args;
  return {
    deployment: args.deployment,
    job: {
      name: plan.group,
      templates: args.contents.jobs.map(({ job }) => ({
        name: job.name,
        version: job.fingerprint,
        sha1: job.sha1,
        blobstore_id: job.blobstoreId,
      })),
    },
    index: plan.index,
    name: plan.group,
    id: plan.id,
    az: plan.az,
    networks: cpiNetworks(plan.networkSettings),
    packages: args.packages,
    configuration_hash: rendered.configurationHash,
    persistent_disk: plan.persistentDisk?.size ?? 0,
    template_hashes: { ...rendered.templateHashes },
    rendered_templates_archive: { blobstore_id: rendered.archive.blobstoreId, sha1: rendered.archive.sha1 },
  };
}
