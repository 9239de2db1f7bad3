import type { Migration } from '../db/db.ts';

/**
 * Deployments and what they own (reference §1.8–1.9): the last successfully deployed manifest,
 * instances (with BOSH's dirty flag `update_completed` and the hashes last applied), the VM of
 * each instance (with what it was created from, so a converged deployment re-plans to
 * nothing) and persistent disks. JSON columns are text.
 */
export const deploymentsMigration: Migration = {
  id: '006-deployments',
  up: () => [
    `CREATE TABLE deployments (
      name TEXT PRIMARY KEY,
      manifest TEXT,
      cloud_config_id BIGINT,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE instances (
      id TEXT PRIMARY KEY,
      deployment TEXT NOT NULL,
      group_name TEXT NOT NULL,
      idx INTEGER NOT NULL,
      az TEXT,
      state TEXT NOT NULL,
      update_completed INTEGER NOT NULL,
      hashes TEXT NOT NULL,
      apply_spec TEXT,
      tags TEXT,
      created_at TEXT NOT NULL
    )`,
    `CREATE INDEX instances_deployment ON instances (deployment, group_name, idx)`,
    `CREATE TABLE vms (
      instance_id TEXT PRIMARY KEY,
      deployment TEXT NOT NULL,
      cid TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      stemcell_name TEXT NOT NULL,
      stemcell_version TEXT NOT NULL,
      cloud_properties TEXT NOT NULL,
      env TEXT NOT NULL,
      network_settings TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE persistent_disks (
      cid TEXT PRIMARY KEY,
      instance_id TEXT NOT NULL,
      deployment TEXT NOT NULL,
      size INTEGER NOT NULL,
      cloud_properties TEXT NOT NULL
    )`,
  ],
};
