import type { CloudConfigItem } from '@refit/protocol';
import { CreateConfigBody } from '@refit/protocol';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { readJson, readText } from '../api/body.ts';
import type { Route, RouteRequest } from '../api/route.ts';
import { BadManifest, ConfigNotFound, ValidationMissingField } from '../errors.ts';
import type { DirectorDeps, Feature } from '../feature.ts';
import { ConfigStore, configItem, rubyTime } from './config-store.ts';
import { lineDiff } from './line-diff.ts';

const CONFIG_LIMIT_BYTES = 16 * 1024 * 1024;
const CLOUD = 'cloud';

const DiffBody = z.union([
  z.object({ type: z.string().min(1), name: z.string().min(1), content: z.string() }),
  z.object({ from: z.object({ id: z.string() }), to: z.object({ id: z.string() }) }),
]);

/** The YAML must be a mapping (BOSH refuses anything else); returns its canonical lines. */
export function validatedYamlLines(text: string, what: string): string[] {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new BadManifest(`Incorrect YAML structure of the uploaded ${what}: ${(error as Error).message}`);
  }
  if (value === null || value === undefined)
    throw new BadManifest(`The uploaded ${what} should not be empty`);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BadManifest(`Incorrect YAML structure of the uploaded ${what}: expected a hash`);
  }
  return canonicalLines(value);
}

function canonicalLines(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return stringify(value, { indentSeq: false }).replace(/\n$/, '').split('\n');
}

function yamlLinesOrRaw(text: string): string[] {
  try {
    return canonicalLines(parse(text));
  } catch {
    return text.split('\n');
  }
}

const nonEmpty = (value: string | null) => (value === null || value === '' ? undefined : value);

function required(request: RouteRequest, key: string): string {
  const value = nonEmpty(request.query.get(key));
  if (value === undefined) throw new ValidationMissingField(`'${key}' is required`);
  return value;
}

function configRoutes(deps: DirectorDeps, store: ConfigStore): Route[] {
  return [
    {
      method: 'GET',
      path: '/configs',
      async handle({ query }) {
        const limit = nonEmpty(query.get('limit'));
        const type = nonEmpty(query.get('type'));
        const name = nonEmpty(query.get('name'));
        const rows = await store.list({
          latest: query.get('latest') !== 'false',
          ...(type === undefined ? {} : { type }),
          ...(name === undefined ? {} : { name }),
          ...(limit === undefined ? {} : { limit: Math.max(1, Number.parseInt(limit, 10) || 1) }),
        });
        return { kind: 'json', body: rows.map(({ row, current }) => configItem(row, current)) };
      },
    },
    {
      method: 'POST',
      path: '/configs',
      async handle(request) {
        const body = await readJson(request, CreateConfigBody, CONFIG_LIMIT_BYTES);
        validatedYamlLines(body.content, 'config');
        const { row, created } = await store.create({
          type: body.type,
          name: body.name,
          content: body.content,
          ...(body.expected_latest_id === undefined ? {} : { expectedLatestId: body.expected_latest_id }),
        });
        if (created) {
          await deps.events.record({
            action: 'create',
            objectType: 'config',
            objectName: body.name,
            user: request.user,
            context: { type: body.type },
          });
        }
        return { kind: 'json', status: created ? 201 : 200, body: configItem(row, true) };
      },
    },
    {
      method: 'DELETE',
      path: '/configs',
      async handle(request) {
        const type = required(request, 'type');
        const name = required(request, 'name');
        if ((await store.delete(type, name)) === 0) {
          throw new ConfigNotFound(`No config with type '${type}' and name '${name}' found`);
        }
        await deps.events.record({
          action: 'delete',
          objectType: 'config',
          objectName: name,
          user: request.user,
          context: { type },
        });
        return { kind: 'empty', status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/configs/diff',
      async handle(request) {
        const body = await readJson(request, DiffBody, CONFIG_LIMIT_BYTES);
        if ('content' in body) {
          const latest = await store.latest(body.type, body.name);
          const after = validatedYamlLines(body.content, 'config');
          return {
            kind: 'json',
            body: { diff: lineDiff(latest === null ? [] : yamlLinesOrRaw(latest.content), after) },
          };
        }
        const find = async (id: string) => {
          const row = /^\d+$/.test(id) ? await store.get(Number(id)) : null;
          if (row === null) throw new ConfigNotFound(`Config with id '${id}' not found`);
          return yamlLinesOrRaw(row.content);
        };
        return { kind: 'json', body: { diff: lineDiff(await find(body.from.id), await find(body.to.id)) } };
      },
    },
  ];
}

function cloudConfigRoutes(deps: DirectorDeps, store: ConfigStore): Route[] {
  const nameOf = (request: RouteRequest) => nonEmpty(request.query.get('name')) ?? 'default';
  return [
    {
      method: 'GET',
      path: '/cloud_configs',
      async handle(request) {
        const limit = nonEmpty(request.query.get('limit'));
        if (limit === undefined) throw new ValidationMissingField("'limit' is required");
        const rows = await store.list({
          type: CLOUD,
          name: nameOf(request),
          latest: false,
          limit: Math.max(1, Number.parseInt(limit, 10) || 1),
        });
        const body: z.infer<typeof CloudConfigItem>[] = rows.map(({ row }) => ({
          properties: row.content,
          created_at: rubyTime(row.created_ms),
        }));
        return { kind: 'json', body };
      },
    },
    {
      method: 'POST',
      path: '/cloud_configs',
      async handle(request) {
        const content = await readText(request, CONFIG_LIMIT_BYTES);
        validatedYamlLines(content, 'cloud config');
        const name = nameOf(request);
        const { created } = await store.create({ type: CLOUD, name, content });
        if (created) {
          await deps.events.record({
            action: 'update',
            objectType: 'cloud-config',
            objectName: name,
            user: request.user,
          });
        }
        return { kind: 'empty', status: 201 };
      },
    },
    {
      method: 'POST',
      path: '/cloud_configs/diff',
      async handle(request) {
        const content = await readText(request, CONFIG_LIMIT_BYTES);
        const after = validatedYamlLines(content, 'cloud config');
        const latest = await store.latest(CLOUD, nameOf(request));
        return {
          kind: 'json',
          body: { diff: lineDiff(latest === null ? [] : yamlLinesOrRaw(latest.content), after) },
        };
      },
    },
  ];
}

/** Configs and cloud configs (reference §1.7); their table is in 001-core. */
export const configsFeature: Feature = {
  name: 'configs',
  migrations: [],
  routes: (deps) => {
    const store = new ConfigStore(deps.db);
    return [...configRoutes(deps, store), ...cloudConfigRoutes(deps, store)];
  },
  taskHandlers: () => [],
};
