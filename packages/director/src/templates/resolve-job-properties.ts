import type { JobManifest } from '@refit/protocol';
import { InvalidPropertyType } from './template-errors.ts';

type Hash = Record<string, unknown>;

const isHash = (value: unknown): value is Hash =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function rubyClass(value: unknown): string {
  if (value === null || value === undefined) return 'NilClass';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return value ? 'TrueClass' : 'FalseClass';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  if (Array.isArray(value)) return 'Array';
  return 'Hash';
}

/**
 * The properties a job's templates see, as BOSH's director computes them: for each property
 * the job spec declares (dotted name), the manifest's value at that path, else the spec's
 * default, else nil; nothing undeclared. A job spec that declares no properties sees the
 * manifest's properties as they are (BOSH's behaviour for spec-less jobs).
 */
export function resolveJobProperties(spec: Pick<JobManifest, 'properties'>, manifestProperties: Hash): Hash {
  const declared = Object.entries(spec.properties);
  if (declared.length === 0) return structuredClone(manifestProperties);
  const resolved: Hash = {};
  for (const [name, definition] of declared) {
    const keys = name.split('.');
    let source: unknown = manifestProperties;
    for (const key of keys) {
      if (!isHash(source)) {
        throw new InvalidPropertyType(
          `Property '${name}' expects a hash, but received '${rubyClass(source)}'`,
        );
      }
      source = source[key];
      if (source === undefined || source === null) break;
    }
    const value = source === undefined || source === null ? (definition.default ?? null) : source;
    let target = resolved;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      if (!isHash(next)) target[key] = {};
      target = target[key] as Hash;
    }
    target[keys.at(-1) ?? name] = structuredClone(value);
  }
  return resolved;
}
