import type { CpiMethodHandler } from '../context.ts';

type Loader = () => Promise<CpiMethodHandler>;

// Every call is a fresh process: load only the method that runs (start-up is most of a call).
const loaders: Readonly<Record<string, Loader>> = {
  info: async () => (await import('./info.ts')).info,
  create_stemcell: async () => (await import('./create-stemcell.ts')).createStemcell,
  delete_stemcell: async () => (await import('./delete-stemcell.ts')).deleteStemcell,
  create_vm: async () => (await import('./create-vm.ts')).createVm,
  delete_vm: async () => (await import('./delete-vm.ts')).deleteVm,
  has_vm: async () => (await import('./has-vm.ts')).hasVm,
  reboot_vm: async () => (await import('./reboot-vm.ts')).rebootVm,
  set_vm_metadata: async () => (await import('./set-vm-metadata.ts')).setVmMetadata,
  calculate_vm_cloud_properties: async () =>
    (await import('./calculate-vm-cloud-properties.ts')).calculateVmCloudProperties,
  create_disk: async () => (await import('./create-disk.ts')).createDisk,
  delete_disk: async () => (await import('./delete-disk.ts')).deleteDisk,
  attach_disk: async () => (await import('./attach-disk.ts')).attachDisk,
  detach_disk: async () => (await import('./detach-disk.ts')).detachDisk,
  has_disk: async () => (await import('./has-disk.ts')).hasDisk,
  get_disks: async () => (await import('./get-disks.ts')).getDisks,
  set_disk_metadata: async () => (await import('./set-disk-metadata.ts')).setDiskMetadata,
};

/** The names of every method refit-cpi-local implements. */
export const cpiMethodNames: readonly string[] = Object.keys(loaders);

/** The handler for `method`; null when refit-cpi-local does not implement it. */
export async function loadCpiMethod(method: string): Promise<CpiMethodHandler | null> {
  const loader = Object.hasOwn(loaders, method) ? loaders[method] : undefined;
  return loader === undefined ? null : loader();
}

/** The director falls back to create-new-disk-and-copy on NotSupported from these. */
export const notSupported: ReadonlySet<string> = new Set(['resize_disk', 'update_disk']);
