import type { Migration } from '../db/db.ts';

/**
 * BOSH's `errand_runs`: per errand and instance, the state hash of its last successful run, so
 * `run-errand --when-changed` skips a run when nothing the errand sees has changed since.
 */
export const errandRunsMigration: Migration = {
  id: '020-errand-runs',
  up: () => [
    `CREATE TABLE errand_runs (
      deployment TEXT NOT NULL,
      errand_name TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      successful_state_hash TEXT NOT NULL,
      PRIMARY KEY (deployment, errand_name, instance_id)
    )`,
  ],
};
