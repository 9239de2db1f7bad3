import type { Migration } from '../db/db.ts';

/**
 * Compilation VMs while they exist (compilation/compilation-vm-store.ts): recorded right after
 * `create_vm`, removed after `delete_vm`. A row left behind (director killed, task failed
 * before cleanup) is deleted at the next deploy of that deployment.
 */
export const compilationVmsMigration: Migration = {
  id: '013-compilation-vms',
  up: () => [
    `CREATE TABLE compilation_vms (
      cid TEXT PRIMARY KEY,
      deployment TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    `CREATE INDEX compilation_vms_deployment ON compilation_vms (deployment)`,
  ],
};
