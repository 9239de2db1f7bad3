import { z } from 'zod';
import { CloudConfigAsRead, ConfigDiffAsRead } from '@refit/protocol';
import { CliError } from '../errors.ts';
import { parseJson, query, type DirectorClient } from './director-client.ts';

export type DiffMark = 'added' | 'removed' | undefined;
export interface DiffLine {
  readonly text: string;
  readonly mark: DiffMark;
}

const yamlBody = (yaml: string) => ({ kind: 'bytes' as const, contentType: 'text/yaml', data: yaml });

/**
 * `POST /cloud_configs/diff?name=…`. A 404 means a director without the endpoint (empty diff),
 * unless its body carries BOSH's config-not-found code 440012.
 */
export async function diffCloudConfig(
  client: DirectorClient,
  name: string,
  yaml: string,
  signal: AbortSignal,
): Promise<DiffLine[]> {
  const response = await client.send('POST', `/cloud_configs/diff${query({ name })}`, signal, {
    body: yamlBody(yaml),
    allowStatuses: [404],
  });
  const body = response.body.toString('utf8');
  if (response.status === 404) {
    if (body.includes('"code":440012')) throw new CliError('config-not-found', body.trim());
    return [];
  }
  const diff = parseJson(response, ConfigDiffAsRead, 'POST /cloud_configs/diff');
  return (diff.diff ?? []).map(([text, mark]) => ({
    text,
    mark: mark === 'added' || mark === 'removed' ? mark : undefined,
  }));
}

/** `POST /cloud_configs?name=…` with the YAML as body. */
export async function updateCloudConfig(
  client: DirectorClient,
  name: string,
  yaml: string,
  signal: AbortSignal,
): Promise<void> {
  await client.send('POST', `/cloud_configs${query({ name })}`, signal, { body: yamlBody(yaml) });
}

/** `GET /cloud_configs?name=…&limit=1`: the latest cloud config's YAML. */
export async function latestCloudConfig(
  client: DirectorClient,
  name: string,
  signal: AbortSignal,
): Promise<string> {
  const items = await client.json(
    `/cloud_configs${query({ name, limit: 1 })}`,
    z.array(CloudConfigAsRead),
    signal,
  );
  const latest = items[0];
  if (latest === undefined) throw new CliError('no-cloud-config', 'No cloud config');
  return latest.properties;
}
