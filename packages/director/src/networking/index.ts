export { DbIpReservationStore, IpAddressInUse } from './ip-reservation-store.ts';
export { ipReservationsMigration } from '../db/migrations/005-ip-reservations.ts';
export { findFreeIp } from './allocate-ips.ts';
export * from './ipv4.ts';
