import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ValidationInvalidType, ValidationMissingField, type DirectorError } from '../errors.ts';

const typeNames: Record<string, string> = {
  string: 'String',
  number: 'Numeric',
  int: 'Integer',
  boolean: 'Boolean',
  object: 'Hash',
  array: 'Array',
  record: 'Hash',
};

/**
 * Parses a YAML manifest (`stemcell.MF`, `rootfs.MF`) with its protocol schema. Every bad field
 * is named in BOSH's words: `Required property 'name' was not specified in stemcell.MF`,
 * `Property 'version' value (true) did not match the required type 'String'`. Missing fields
 * only → ValidationMissingField; anything else → ValidationInvalidType; YAML that does not
 * parse → the `unreadable` error of the caller.
 */
export function parseManifest<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  unreadable: (message: string) => DirectorError,
): z.infer<S> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw unreadable(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationInvalidType(`${file}: object (${show(raw)}) did not match the required type 'Hash'`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const messages: string[] = [];
  let onlyMissing = true;
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String).join('.');
    const value = valueAt(raw, issue.path);
    if (issue.code === 'unrecognized_keys') {
      onlyMissing = false;
      for (const key of issue.keys)
        messages.push(`Unknown property '${path ? `${path}.` : ''}${key}' in ${file}`);
    } else if (value === undefined) {
      messages.push(`Required property '${path}' was not specified in ${file}`);
    } else if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
      onlyMissing = false;
      const expected =
        issue.code === 'invalid_type' ? (typeNames[issue.expected] ?? issue.expected) : 'String';
      messages.push(
        `Property '${path}' value (${show(value)}) did not match the required type '${expected}'`,
      );
    } else {
      onlyMissing = false;
      messages.push(`Property '${path}' value (${show(value)}) is invalid in ${file}: ${issue.message}`);
    }
  }
  const message = messages.join('; ');
  throw onlyMissing ? new ValidationMissingField(message) : new ValidationInvalidType(message);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
