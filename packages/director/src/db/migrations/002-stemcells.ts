import type { Migration } from '../db.ts';
import { idColumn } from '../migrate.ts';

/**
 * IaaS stemcells (reference §1.5), keyed by (name, version, cpi) as BOSH's director keys them.
 *
 * `stemcell_usages` says which deployments use which stemcell. This feature only reads it
 * (`GET /stemcells` `deployments`, and the "still in use" check of a delete); the deploy
 * feature writes one row per (stemcell, deployment) when a deployment starts using a stemcell
 * and removes it when it stops.
 */
export const stemcellsMigration: Migration = {
  id: '002-stemcells',
  up: (dialect) => [
    `CREATE TABLE stemcells (
      ${idColumn(dialect)},
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      operating_system TEXT NOT NULL,
      cpi TEXT NOT NULL,
      cid TEXT NOT NULL,
      sha1 TEXT NOT NULL,
      api_version INTEGER,
      created_at TEXT NOT NULL,
      UNIQUE (name, version, cpi)
    )`,
    `CREATE TABLE stemcell_usages (
      stemcell_id BIGINT NOT NULL,
      deployment TEXT NOT NULL,
      PRIMARY KEY (stemcell_id, deployment)
    )`,
  ],
};
