import { z } from 'zod';
import { readJson } from '../api/body.ts';
import type { Route } from '../api/route.ts';
import { ValidationInvalidType, ValidationMissingField } from '../errors.ts';

/**
 * `POST /stemcell_uploads` `{"stemcell":{"name","version"}}` and `POST /rootfs_uploads`
 * `{"rootfs":{…}}` → `{"needed": bool}`: whether an upload would add anything. Empty name or
 * version (the CLI sends those for a URL without --name/--version) is always needed.
 */
export function uploadCheckRoute(options: {
  readonly path: string;
  readonly field: 'stemcell' | 'rootfs';
  readonly exists: (name: string, version: string) => Promise<boolean>;
}): Route {
  return {
    method: 'POST',
    path: options.path,
    async handle(request) {
      const body = await readJson(request, z.unknown());
      const item = field(body, options.field);
      if (item === undefined || item === null)
        throw new ValidationMissingField(`Missing '${options.field}' field`);
      const name = field(item, 'name');
      if (name === undefined || name === null) throw new ValidationMissingField("Missing 'name' field");
      const version = field(item, 'version');
      if (version === undefined || version === null)
        throw new ValidationMissingField("Missing 'version' field");
      if (typeof name !== 'string') throw new ValidationInvalidType("'name' must be a string");
      if (typeof version !== 'string' && typeof version !== 'number') {
        throw new ValidationInvalidType("'version' must be a string");
      }
      const needed = name === '' || version === '' || !(await options.exists(name, String(version)));
      return { kind: 'json', body: { needed } };
    },
  };
}

function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[key];
}
