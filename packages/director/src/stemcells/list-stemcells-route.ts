import type { StemcellListItem } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { matchKey, RootfsStore } from '../rootfs/rootfs-store.ts';
import { StemcellStore } from './stemcell-store.ts';

/**
 * `GET /stemcells`: ordered by name, each with the deployments using it (`stemcell_usages`)
 * and Refit's `rootfs`: the generic stemcell of the same operating system and version, or null.
 */
export function listStemcellsRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/stemcells',
    async handle() {
      const [stemcells, usages, rootfs] = await Promise.all([
        new StemcellStore(db).list(),
        new StemcellStore(db).allUsages(),
        new RootfsStore(db).byOperatingSystemAndVersion(),
      ]);
      const body: StemcellListItem[] = stemcells.map((s) => {
        const match = rootfs.get(matchKey(s.operatingSystem, s.version));
        return {
          name: s.name,
          operating_system: s.operatingSystem,
          version: s.version,
          cid: s.cid,
          // BOSH names a stemcell's CPI only with a cpi config (several CPIs); the director's own
          // single CPI shows as "" (the stock CLI prints `-`). The name stays in the database.
          cpi: '',
          deployments: (usages.get(s.id) ?? []).map((name) => ({ name })),
          api_version: s.apiVersion,
          id: s.id,
          rootfs: match ? { version: match.version, sha256: match.sha256, size: match.size } : null,
        };
      });
      return { kind: 'json', body };
    },
  };
}
