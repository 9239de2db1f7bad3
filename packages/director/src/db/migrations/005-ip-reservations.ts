import type { Migration } from '../db.ts';

/**
 * IP addresses taken on manual (and vip) networks: one row per (network, ip), naming the
 * deployment and instance holding it. Networks are the cloud config's, shared by every
 * deployment, so the key is the network and the address, not the deployment.
 */
export const ipReservationsMigration: Migration = {
  id: '005-ip-reservations',
  up: () => [
    `CREATE TABLE ip_reservations (
      network TEXT NOT NULL,
      ip TEXT NOT NULL,
      deployment TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      type TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (network, ip)
    )`,
    `CREATE INDEX ip_reservations_deployment ON ip_reservations (deployment, instance_id)`,
  ],
};
