import type { Hash, LinkGroupInput, LinkJobInput } from './link-types.ts';

/** One link a job provides, after the manifest's `provides:` is applied. */
export interface ProviderIntent {
  readonly group: string;
  readonly job: string;
  /** The name in the job spec. */
  readonly originalName: string;
  /** The manifest's `as:`, else the spec's name: what an explicit `from:` names. */
  readonly name: string;
  readonly type: string;
  /** False when the manifest says `provides: {<name>: nil}`. */
  readonly consumable: boolean;
  /** The spec's link `properties`, valued from the job's properties, else the spec's defaults. */
  readonly properties: Record<string, unknown>;
}

const isHash = (value: unknown): value is Hash =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `nil` in a manifest: YAML's null, or the string `nil` BOSH's docs write. */
export const isNilSource = (value: unknown): boolean => value === null || value === 'nil';

/**
 * Every provider intent of the deployment (BOSH's LinkProvidersParser). Errors use BOSH's
 * wording and are returned, not thrown, so that all of them are reported at once.
 */
export function parseLinkProviders(groups: readonly LinkGroupInput[]): {
  readonly providers: ProviderIntent[];
  readonly errors: string[];
} {
  const providers: ProviderIntent[] = [];
  const errors: string[] = [];
  for (const group of groups) {
    for (const job of group.jobs) {
      for (const definition of job.spec.provides) {
        const where = `in job '${job.name}' in instance group '${group.name}'`;
        const source = job.provides[definition.name];
        let name = definition.name;
        let consumable = true;
        if (source !== undefined) {
          if (isNilSource(source)) consumable = false;
          else if (!isHash(source)) {
            errors.push(
              `Provider '${definition.name}' ${where} specified in the manifest should only be a hash or string 'nil'`,
            );
            continue;
          } else if ('name' in source || 'type' in source) {
            errors.push(
              `Cannot specify 'name' or 'type' properties in the manifest for link '${definition.name}' ${where}. Please provide these keys in the release only.`,
            );
            continue;
          } else if (typeof source['as'] === 'string' && source['as'] !== '') name = source['as'];
        }
        const mapped = linkProperties(job, definition.properties ?? [], errors);
        if (mapped === null) continue;
        providers.push({
          group: group.name,
          job: job.name,
          originalName: definition.name,
          name,
          type: definition.type,
          consumable,
          properties: mapped,
        });
      }
    }
  }
  return { providers, errors };
}

/**
 * A provided link's properties (BOSH's process_link_properties): each listed (dotted) property
 * from the job's manifest properties when present there (even when null), else the job spec's
 * default; a property the spec does not declare is an error.
 */
function linkProperties(
  job: LinkJobInput,
  names: readonly string[],
  errors: string[],
): Record<string, unknown> | null {
  const mapped: Record<string, unknown> = {};
  let ok = true;
  for (const name of names) {
    const path = name.split('.');
    let node: unknown = job.properties;
    let found = true;
    for (const key of path) {
      if (!isHash(node) || !(key in node)) {
        found = false;
        break;
      }
      node = node[key];
    }
    let value: unknown;
    if (found) value = node;
    else if (Object.hasOwn(job.spec.properties, name)) value = job.spec.properties[name]?.default ?? null;
    else {
      errors.push(`Link property ${name} in template ${job.name} is not defined in release spec`);
      ok = false;
      continue;
    }
    let target = mapped;
    for (const key of path.slice(0, -1)) {
      if (!isHash(target[key])) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path.at(-1) ?? name] = structuredClone(value);
  }
  return ok ? mapped : null;
}
