import type { Migration } from '../db/db.ts';

/**
 * VMs that must be deleted even if the director dies first (updater/updater-ports.ts
 * `vmLeftover`): during a `create-swap-delete` recreate, the new VM until the swap and the old
 * one after it, with the IP reservations that go when it goes (the old VM's addresses on
 * networks where the new VM got fresh ones). A row left behind is deleted, and its addresses
 * released, at the next deploy of that deployment.
 */
export const leftoverVmsMigration: Migration = {
  id: '014-leftover-vms',
  up: () => [
    `CREATE TABLE leftover_vms (
      cid TEXT PRIMARY KEY,
      deployment TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      ip_reservations TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    `CREATE INDEX leftover_vms_deployment ON leftover_vms (deployment)`,
  ],
};
