import { parse } from 'yaml';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { DeploymentNotFound } from '../errors.ts';
import { ReleaseStore } from '../releases/release-store.ts';

/**
 * An errand of a deployment, as BOSH's ErrandProvider finds them: an instance group with
 * `lifecycle: errand` (its own VMs, made for the run), or a job with a `bin/run` on service
 * groups (run in place on their instances; `groups` names them).
 */
export type Errand =
  | { readonly kind: 'lifecycle'; readonly name: string; readonly group: string }
  | { readonly kind: 'colocated'; readonly name: string; readonly groups: readonly string[] };

// Only what errands need of the stored (already validated) manifest.
const StoredManifest = z.object({
  releases: z.array(z.object({ name: z.string(), version: z.union([z.string(), z.number()]) })).default([]),
  instance_groups: z
    .array(
      z.object({
        name: z.string(),
        lifecycle: z.enum(['service', 'errand']).optional(),
        jobs: z.array(z.object({ name: z.string(), release: z.string() })).default([]),
      }),
    )
    .default([]),
});

/** The errands of a deployment's last deployed manifest, in manifest order. */
export async function findErrands(db: Db, deployment: string): Promise<Errand[]> {
  const record = await new DeploymentStore(db).get(deployment);
  if (record === null) throw new DeploymentNotFound(`Deployment '${deployment}' doesn't exist`);
  if (record.manifest === null) return [];
  const manifest = StoredManifest.parse(parse(record.manifest));
  const releases = new ReleaseStore(db);
  const runnable = new Map<string, boolean>();
  // Whether the release's job (at the manifest's version) has a `bin/run` template.
  const hasRun = async (job: string, release: string): Promise<boolean> => {
    const key = `${release}/${job}`;
    const known = runnable.get(key);
    if (known !== undefined) return known;
    const wanted = manifest.releases.find((r) => r.name === release);
    let version = null;
    if (wanted !== undefined && String(wanted.version) !== 'latest') {
      version = await releases.findVersion(release, String(wanted.version));
    } else {
      const found = await releases.findRelease(release);
      version = found === null ? null : ((await releases.versions(found.id)).at(-1) ?? null);
    }
    const spec =
      version === null ? undefined : (await releases.jobsOf(version.id)).find((j) => j.name === job);
    const answer = spec !== undefined && Object.values(spec.spec.templates).includes('bin/run');
    runnable.set(key, answer);
    return answer;
  };
  const errands: Errand[] = [];
  const colocated = new Map<string, string[]>();
  for (const group of manifest.instance_groups) {
    if (group.lifecycle === 'errand') {
      errands.push({ kind: 'lifecycle', name: group.name, group: group.name });
      continue;
    }
    for (const job of group.jobs) {
      if (!(await hasRun(job.name, job.release))) continue;
      const groups = colocated.get(job.name);
      if (groups === undefined) colocated.set(job.name, [group.name]);
      else groups.push(group.name);
    }
  }
  for (const [name, groups] of colocated) {
    if (!errands.some((e) => e.name === name)) errands.push({ kind: 'colocated', name, groups });
  }
  return errands;
}
