import { z } from 'zod';
import { RootfsAsRead, UploadNeededAsRead } from '@refit/protocol';
import type { DirectorClient } from './director-client.ts';
import type { RequestBody } from './https-transport.ts';

/** A generic stemcell (`rootfs.tgz`) the director keeps for OS reload. */
export interface Rootfs {
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
  readonly sha256: string;
  readonly size: number | undefined;
  /** The signing key's fingerprint; '' when unsigned. */
  readonly signedBy: string;
}

export async function listRootfs(client: DirectorClient, signal: AbortSignal): Promise<Rootfs[]> {
  const items = await client.json('/rootfs', z.array(RootfsAsRead), signal);
  return items.map((r) => ({
    name: r.name,
    version: r.version,
    operatingSystem: r.operating_system ?? '',
    sha256: r.sha256 ?? '',
    size: r.size ?? undefined,
    signedBy: r.signed_by ?? '',
  }));
}

/** `POST /rootfs_uploads`: false when the director already has this name/version. */
export async function rootfsNeedsUpload(
  client: DirectorClient,
  rootfs: { readonly name: string; readonly version: string },
  signal: AbortSignal,
): Promise<boolean> {
  const answer = await client.json('/rootfs_uploads', UploadNeededAsRead, signal, {
    method: 'POST',
    body: { kind: 'bytes', contentType: 'application/json', data: JSON.stringify({ rootfs }) },
  });
  return answer.needed;
}

/** `POST /rootfs` with a raw `rootfs.tgz` or a `{location, sha1}` body: the task id. */
export function uploadRootfs(
  client: DirectorClient,
  body: RequestBody,
  signal: AbortSignal,
): Promise<number> {
  return client.startTask('POST', '/rootfs', signal, body);
}

/** `DELETE /rootfs/<name>/<version>`: the task id. */
export function deleteRootfs(
  client: DirectorClient,
  rootfs: { readonly name: string; readonly version: string },
  signal: AbortSignal,
): Promise<number> {
  return client.startTask(
    'DELETE',
    `/rootfs/${encodeURIComponent(rootfs.name)}/${encodeURIComponent(rootfs.version)}`,
    signal,
  );
}
