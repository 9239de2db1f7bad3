import type { RootfsListItem } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { RootfsSignatures } from './rootfs-signatures.ts';
import { RootfsStore } from './rootfs-store.ts';

/**
 * `GET /rootfs`: every generic stemcell, ordered by name then version; `signed_by` names the
 * trusted key whose signature the upload verified (absent: stored unsigned).
 */
export function listRootfsRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/rootfs',
    async handle() {
      const signatures = await new RootfsSignatures(db).byBlob();
      const body: RootfsListItem[] = (await new RootfsStore(db).list()).map((r) => ({
        name: r.name,
        version: r.version,
        operating_system: r.operatingSystem,
        api_version: r.apiVersion,
        sha256: r.sha256,
        size: r.size,
        blobstore_id: r.blobstoreId,
        created_at: r.createdAt,
        ...(signatures.has(r.blobstoreId) ? { signed_by: signatures.get(r.blobstoreId) } : {}),
      }));
      return { kind: 'json', body };
    },
  };
}
