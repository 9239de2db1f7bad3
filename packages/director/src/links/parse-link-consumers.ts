import type { TemplateLink } from '../templates/render-job-templates.ts';
import type { Hash, LinkGroupInput } from './link-types.ts';
import { isNilSource } from './parse-link-providers.ts';

/** One link a job consumes, after the manifest's `consumes:` is applied. */
export interface ConsumerIntent {
  readonly group: string;
  readonly job: string;
  /** The name in the job spec (what templates pass to `link`). */
  readonly originalName: string;
  /** `from:` (its last dotted part), else the spec's name. */
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  /** The manifest names this link (a hash or `nil`): only providers named `name` match. */
  readonly explicit: boolean;
  /** `consumes: {<name>: nil}`. */
  readonly blocked: boolean;
  /** `network:`: instance addresses on that network instead of the default one. */
  readonly network: string | null;
  /** A manual link (`instances`, `properties`, `address` given in the manifest). */
  readonly manual: TemplateLink | null;
}

const isHash = (value: unknown): value is Hash =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const MANUAL_KEYS = ['instances', 'properties', 'address'] as const;

/** Every consumer intent of the deployment (BOSH's LinkConsumersParser), errors in BOSH's words. */
export function parseLinkConsumers(
  deployment: string,
  groups: readonly LinkGroupInput[],
): { readonly consumers: ConsumerIntent[]; readonly errors: string[] } {
  const consumers: ConsumerIntent[] = [];
  const errors: string[] = [];
  for (const group of groups) {
    for (const job of group.jobs) {
      for (const definition of job.spec.consumes) {
        const base = {
          group: group.name,
          job: job.name,
          originalName: definition.name,
          name: definition.name,
          type: definition.type,
          optional: definition.optional ?? false,
          explicit: false,
          blocked: false,
          network: null,
          manual: null,
        };
        const source = job.consumes[definition.name];
        if (source === undefined) {
          consumers.push(base);
          continue;
        }
        if (isNilSource(source)) {
          consumers.push({ ...base, explicit: true, blocked: true });
          continue;
        }
        const where = `for link '${definition.name}' in job '${job.name}' in instance group '${group.name}'.`;
        if (!isHash(source)) {
          errors.push(
            `Consumer '${definition.name}' in job '${job.name}' in instance group '${group.name}' specified in the manifest should only be a hash or string 'nil'`,
          );
          continue;
        }
        const problems: string[] = [];
        for (const key of ['instances', 'properties'])
          if (key in source && 'from' in source)
            problems.push(`Cannot specify both '${key}' and 'from' keys ${where}`);
        if ('properties' in source && !('instances' in source))
          problems.push(`Cannot specify 'properties' without 'instances' ${where}`);
        if ('ip_addresses' in source && typeof source['ip_addresses'] !== 'boolean')
          problems.push(`Cannot specify non boolean values for 'ip_addresses' field ${where}`);
        if ('name' in source || 'type' in source)
          problems.push(
            `Cannot specify 'name' or 'type' properties in the manifest ${where} Please provide these keys in the release only.`,
          );
        const from = source['deployment'];
        if (from !== undefined && from !== deployment)
          problems.push(
            `Link '${definition.name}' in job '${job.name}' from instance group '${group.name}' consumes from deployment '${typeof from === 'string' ? from : JSON.stringify(from)}': cross-deployment links are not supported by Refit`,
          );
        if (problems.length > 0) {
          errors.push(...problems);
          continue;
        }
        if (MANUAL_KEYS.some((key) => key in source)) {
          consumers.push({ ...base, explicit: true, manual: manualLink(source) });
          continue;
        }
        const fromName = typeof source['from'] === 'string' ? source['from'].split('.').at(-1) : undefined;
        consumers.push({
          ...base,
          explicit: true,
          name: fromName === undefined || fromName === '' ? definition.name : fromName,
          network: typeof source['network'] === 'string' ? source['network'] : null,
        });
      }
    }
  }
  return { consumers, errors };
}

/** A link written out in the manifest: its instances (each with at least an `address`). */
function manualLink(source: Hash): TemplateLink {
  const given = Array.isArray(source['instances']) ? (source['instances'] as unknown[]) : [];
  const instances = given.map((raw, index) => {
    const i: Hash = isHash(raw) ? raw : {};
    return {
      name: typeof i['name'] === 'string' ? i['name'] : '',
      index: typeof i['index'] === 'number' ? i['index'] : index,
      id: typeof i['id'] === 'string' ? i['id'] : '',
      az: typeof i['az'] === 'string' ? i['az'] : null,
      address: typeof i['address'] === 'string' ? i['address'] : '',
      bootstrap: typeof i['bootstrap'] === 'boolean' ? i['bootstrap'] : index === 0,
    };
  });
  return {
    instances,
    properties: isHash(source['properties']) ? structuredClone(source['properties']) : {},
    ...(typeof source['address'] === 'string' ? { address: source['address'] } : {}),
  };
}
