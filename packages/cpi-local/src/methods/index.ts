import type { CpiMethodHandler } from '../context.ts';
import { attachDisk } from './attach-disk.ts';
import { calculateVmCloudProperties } from './calculate-vm-cloud-properties.ts';
import { createDisk } from './create-disk.ts';
import { createStemcell } from './create-stemcell.ts';
import { createVm } from './create-vm.ts';
import { deleteDisk } from './delete-disk.ts';
import { deleteStemcell } from './delete-stemcell.ts';
import { deleteVm } from './delete-vm.ts';
import { detachDisk } from './detach-disk.ts';
import { getDisks } from './get-disks.ts';
import { hasDisk } from './has-disk.ts';
import { hasVm } from './has-vm.ts';
import { info } from './info.ts';
import { rebootVm } from './reboot-vm.ts';
import { setDiskMetadata } from './set-disk-metadata.ts';
import { setVmMetadata } from './set-vm-metadata.ts';

/** Every method refit-cpi-local implements; anything else answers NotImplemented / NotSupported. */
export const cpiMethods: ReadonlyMap<string, CpiMethodHandler> = new Map(
  [
    info,
    createStemcell,
    deleteStemcell,
    createVm,
    deleteVm,
    hasVm,
    rebootVm,
    setVmMetadata,
    calculateVmCloudProperties,
    createDisk,
    deleteDisk,
    attachDisk,
    detachDisk,
    hasDisk,
    getDisks,
    setDiskMetadata,
  ].map((m) => [m.method, m]),
);

/** The director falls back to create-new-disk-and-copy on NotSupported from these. */
export const notSupported: ReadonlySet<string> = new Set(['resize_disk', 'update_disk']);
