import { z } from 'zod';
import { StemcellAsRead, UploadNeededAsRead } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';
import type { RequestBody } from './https-transport.ts';

export interface Stemcell {
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
  readonly cpi: string;
  readonly cid: string;
  /** Used by at least one deployment (the `*` of `stemcells`). */
  readonly deployed: boolean;
  /** The matching generic stemcell (rootfs) version, when the director has one. */
  readonly rootfsVersion: string | undefined;
}

export async function listStemcells(client: DirectorClient, signal: AbortSignal): Promise<Stemcell[]> {
  const items = await client.json('/stemcells', z.array(StemcellAsRead), signal);
  return items.map((s) => ({
    name: s.name ?? '',
    version: s.version,
    operatingSystem: s.operating_system ?? '',
    cpi: s.cpi ?? '',
    cid: s.cid ?? '',
    deployed: (s.deployments ?? []).length > 0,
    rootfsVersion: s.rootfs?.version ?? undefined,
  }));
}

/** `POST /stemcell_uploads`: false when the director already has this name/version. */
export async function stemcellNeedsUpload(
  client: DirectorClient,
  stemcell: { readonly name: string; readonly version: string },
  signal: AbortSignal,
): Promise<boolean> {
  const answer = await client.json('/stemcell_uploads', UploadNeededAsRead, signal, {
    method: 'POST',
    body: { kind: 'bytes', contentType: 'application/json', data: JSON.stringify({ stemcell }) },
  });
  return answer.needed;
}

/** `POST /stemcells[?fix=true]` with a raw tarball or a `{location, sha1}` body: the task id. */
export function uploadStemcell(
  client: DirectorClient,
  body: RequestBody,
  fix: boolean,
  signal: AbortSignal,
): Promise<number> {
  return client.startTask('POST', `/stemcells${query({ fix: fix ? 'true' : undefined })}`, signal, body);
}

/** `DELETE /stemcells/<name>/<version>[?force=true]`: the task id. */
export function deleteStemcell(
  client: DirectorClient,
  stemcell: { readonly name: string; readonly version: string },
  force: boolean,
  signal: AbortSignal,
): Promise<number> {
  const path = `/stemcells/${encodeURIComponent(stemcell.name)}/${encodeURIComponent(stemcell.version)}`;
  return client.startTask('DELETE', `${path}${query({ force: force ? 'true' : undefined })}`, signal);
}
