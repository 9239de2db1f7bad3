import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { listReleases, uploadRelease } from '../director-client/releases.ts';
import { fileUploadBody, remoteUploadBody } from '../director-client/upload-body.ts';
import { runStartedTask } from './follow-events.ts';

const ManifestReleases = z.object({
  releases: z
    .array(
      z.object({
        name: z.string(),
        version: z.union([z.string(), z.number()]).transform(String).optional(),
        url: z.string().optional(),
        sha1: z.string().optional(),
      }),
    )
    .nullish(),
});

/**
 * As the stock CLI's deploy: every manifest release with a `url` (http(s) or file://) and a
 * version the director does not have yet is uploaded first (`latest` always is), following each
 * upload task. Returns the `name/version` of the releases uploaded.
 */
export async function uploadManifestReleases(
  deps: CommandDeps,
  client: DirectorClient,
  manifestYaml: string,
  signal: AbortSignal,
): Promise<string[]> {
  const parsed = ManifestReleases.safeParse(parseYaml(manifestYaml));
  const wanted = (parsed.success ? (parsed.data.releases ?? []) : []).filter(
    (r) => r.url !== undefined && /^(https?|file):\/\//i.test(r.url),
  );
  if (wanted.length === 0) return [];
  const known = await listReleases(client, signal);
  const uploaded: string[] = [];
  for (const release of wanted) {
    const version = release.version ?? 'latest';
    if (version !== 'latest' && known.some((k) => k.name === release.name && k.version === version)) continue;
    const url = release.url ?? '';
    const body = /^file:\/\//i.test(url)
      ? await fileUploadBody(fileURLToPath(url), deps.ui.uploadProgress())
      : remoteUploadBody(url, release.sha1);
    const taskId = await uploadRelease(client, body, { fix: false, rebase: false }, signal);
    await runStartedTask(deps, client, taskId, signal);
    uploaded.push(`${release.name}/${version}`);
  }
  return uploaded;
}
