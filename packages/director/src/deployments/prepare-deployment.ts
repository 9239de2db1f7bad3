import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BugError } from '../errors.ts';
import type { Hash } from '../manifests/compile-cloud-config.ts';
import { runPool } from '../updater/run-pool.ts';
import type { Blobstore } from '../blobstore/blobstore.ts';
import { ConfigStore } from '../configs/config-store.ts';
import type { Db } from '../db/db.ts';
import { compileCloudConfig, type CompiledCloudConfig } from '../manifests/compile-cloud-config.ts';
import { compileManifest, type CompiledDeployment } from '../manifests/compile-manifest.ts';
import { DbIpReservationStore } from '../networking/ip-reservation-store.ts';
import {
  applyRenderedHashes,
  planDeployment,
  type PlanOptions,
  type RenderedHashes,
} from '../planner/index.ts';
import type { CurrentInstance, DeploymentPlan, InstancePlan } from '../planner/plan-types.ts';
import type { AgentClient } from '../agent-client/agent-client.ts';
import { findReleaseVersion, type ReleaseVersionContents } from '../releases/release-lookup.ts';
import { ReleaseStore } from '../releases/release-store.ts';
import { StemcellStore, type StemcellRecord } from '../stemcells/stemcell-store.ts';
import {
  readJobTemplatesFromBlob,
  renderInstanceTemplates,
  type JobTemplateFiles,
  type RenderedInstance,
} from '../templates/index.ts';
import { planLinks } from '../links/plan-links.ts';
import { contentHashes, groupContents, templateSpec, type GroupContents } from './instance-specs.ts';
import { DeploymentStore } from './deployment-store.ts';
import { reloadableStemcells } from './reload-preflight.ts';
import { StemcellNotFound } from '../errors.ts';

export interface PrepareInput {
  readonly db: Db;
  readonly blobstore: Blobstore;
  readonly cpiName: string;
  readonly manifestText: string;
  readonly options: PlanOptions;
  readonly signal: AbortSignal;
  readonly newId?: () => string;
  /** Asked about each instance's agent when `options.fix` is set. */
  readonly agents?: AgentClient;
  /** Instances rendered at once (default: the machine's parallelism, at least 2). */
  readonly renderParallelism?: number;
  /** Ruby for the ERB renderer (tests). */
  readonly ruby?: string;
  /** Renders errand groups' instances too (`run-errand` of an errand group). */
  readonly errands?: boolean;
}

export interface PreparedInstance {
  readonly plan: InstancePlan;
  readonly contents: GroupContents;
  readonly rendered: RenderedInstance;
}

export interface PreparedDeployment {
  readonly compiled: CompiledDeployment;
  readonly plan: DeploymentPlan;
  readonly instances: ReadonlyMap<string, PreparedInstance>;
  readonly releases: ReadonlyMap<string, ReleaseVersionContents>;
  /** Stemcell alias → the uploaded stemcell (for this CPI). */
  readonly stemcells: ReadonlyMap<string, StemcellRecord>;
  readonly cloudConfigId: number | null;
  readonly cloudConfig: CompiledCloudConfig;
}

/**
 * `Preparing deployment` (reference §4.3 step 1): the manifest against the latest cloud config
 * and the uploaded releases and stemcells (errors name the path), the plan, then every
 * instance's templates rendered (a template error fails here, naming job, file and line).
 * Nothing here touches a VM.
 */
export async function prepareDeployment(input: PrepareInput): Promise<PreparedDeployment> {
  const { db } = input;
  const cloudRow = await new ConfigStore(db).latest('cloud', 'default');
  const cloudConfig = compileCloudConfig(cloudRow?.content ?? '{}');
  const releaseStore = new ReleaseStore(db);
  const stemcellStore = new StemcellStore(db);
  const allStemcells = await stemcellStore.list();
  const compiled = compileManifest({
    manifest: input.manifestText,
    cloudConfig,
    available: {
      releases: (await releaseStore.versions()).map((v) => ({ name: v.releaseName, version: v.version })),
      stemcells: allStemcells.map((s) => ({
        name: s.name,
        version: s.version,
        operatingSystem: s.operatingSystem,
      })),
    },
  });
  const releases = new Map<string, ReleaseVersionContents>();
  for (const r of compiled.releases) releases.set(r.name, await findReleaseVersion(db, r.name, r.version));
  const stemcells = new Map<string, StemcellRecord>();
  for (const [alias, s] of compiled.stemcells) {
    const found =
      allStemcells.find((c) => c.name === s.name && c.version === s.version && c.cpi === input.cpiName) ??
      allStemcells.find((c) => c.name === s.name && c.version === s.version);
    if (!found) throw new StemcellNotFound(`Stemcell '${s.name}/${s.version}' doesn't exist`);
    stemcells.set(alias, found);
  }

  const store = new DeploymentStore(db);
  const reservations = new DbIpReservationStore(db);
  let current: CurrentInstance[] = await store.instances(compiled.name);
  // `--fix`: ask every agent (5 s) so the planner recreates the unresponsive ones (§4.2).
  if (input.options.fix === true && input.agents !== undefined) {
    const agents = input.agents;
    current = await Promise.all(
      current.map(async (i) => {
        if (i.vm === null) return i;
        try {
          const state = await agents.call(i.vm.agentId, 'get_state', [], {
            signal: AbortSignal.any([input.signal, AbortSignal.timeout(5000)]),
            replyTimeoutMs: 5000,
          });
          return { ...i, agentResponsive: true, jobState: state.job_state };
        } catch {
          input.signal.throwIfAborted();
          return { ...i, agentResponsive: false, jobState: 'unresponsive agent' };
        }
      }),
    );
  }
  let plan = planDeployment({
    deployment: compiled,
    current: {
      instances: current,
      reservations: await reservations.forDeployment(compiled.name),
      otherReservations: await reservations.ofOtherDeployments(compiled.name),
    },
    options: input.options,
    newId: input.newId ?? randomUUID,
    reloadable: await reloadableStemcells(db),
  });

  // Links resolve before anything renders: a link error names every consumer at once (BOSH).
  const links = planLinks(plan, releases, compiled.properties);
  const templates = new Map<string, JobTemplateFiles>();
  const instances = new Map<string, PreparedInstance>();
  const hashes = new Map<string, RenderedHashes>();
  // Jobs' template sources are read once; instances render in parallel (Ruby per instance).
  const work: { instance: InstancePlan; contents: GroupContents; bootstrap: boolean; properties: Hash[] }[] =
    [];
  const contentOf = new Map<string, { packages: string; job: string }>();
  for (const group of plan.instanceGroups) {
    if (group.lifecycle !== 'service' && input.errands !== true) continue;
    const contents = groupContents(group.group, releases);
    const bootstrapIndex = Math.min(...group.instances.map((i) => i.index));
    const properties = group.group.jobs.map((j) =>
      Object.keys(j.properties).length > 0 ? j.properties : compiled.properties,
    );
    for (const { job } of contents.jobs) {
      if (!templates.has(job.blobstoreId)) {
        templates.set(
          job.blobstoreId,
          await readJobTemplatesFromBlob(input.blobstore, job.blobstoreId, input.signal),
        );
      }
    }
    for (const instance of group.instances) {
      work.push({ instance, contents, bootstrap: instance.index === bootstrapIndex, properties });
      contentOf.set(instance.id, contentHashes(contents));
    }
  }
  await runPool(work, input.renderParallelism ?? Math.max(2, availableParallelism()), async (w) => {
    const rendered = await renderInstanceTemplates({
      spec: templateSpec(compiled.name, w.instance, w.bootstrap),
      jobs: w.contents.jobs.map(({ job, release }, n) => {
        const files = templates.get(job.blobstoreId);
        if (files === undefined) throw new BugError(`templates of ${job.name} not read`);
        return {
          jobSpec: job.spec,
          templates: files.templates,
          monit: files.monit,
          manifestProperties: w.properties[n] ?? {},
          release: { name: release.release.releaseName, version: release.release.version },
          links: links.get(w.instance.group)?.get(job.name) ?? {},
        };
      }),
      blobstore: input.blobstore,
      renderer: { signal: input.signal, ...(input.ruby ? { ruby: input.ruby } : {}) },
    });
    instances.set(w.instance.id, { plan: w.instance, contents: w.contents, rendered });
    hashes.set(w.instance.id, { ...contentOf.get(w.instance.id), configuration: rendered.configurationHash });
  });
  plan = applyRenderedHashes(plan, hashes);
  for (const group of plan.instanceGroups) {
    for (const instance of group.instances) {
      const prepared = instances.get(instance.id);
      if (prepared) instances.set(instance.id, { ...prepared, plan: instance });
    }
  }
  return { compiled, plan, instances, releases, stemcells, cloudConfigId: cloudRow?.id ?? null, cloudConfig };
}
