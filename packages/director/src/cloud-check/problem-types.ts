/** BOSH's cloud-check problem types (reference §4.8, `problem_handlers/*`). */
export const ProblemType = {
  missingVm: 'missing_vm',
  unresponsiveAgent: 'unresponsive_agent',
  mountInfoMismatch: 'mount_info_mismatch',
  missingDisk: 'missing_disk',
  inactiveDisk: 'inactive_disk',
  invalidProblem: 'invalid_problem',
} as const;
export type ProblemType = (typeof ProblemType)[keyof typeof ProblemType];

export interface Resolution {
  readonly name: string;
  readonly plan: string;
}

const ignore: Resolution = { name: 'ignore', plan: 'Skip for now' };
const recreateWithoutWait: Resolution = {
  name: 'recreate_vm_without_wait',
  plan: 'Recreate VM without waiting for processes to start',
};
const recreate: Resolution = { name: 'recreate_vm', plan: 'Recreate VM and wait for processes to start' };

/** Each type's resolutions in BOSH's order, and the one `null` (`--auto`) stands for. */
export const problemKinds: Readonly<
  Record<ProblemType, { readonly resolutions: readonly Resolution[]; readonly auto: string }>
> = {
  missing_vm: {
    resolutions: [
      ignore,
      recreateWithoutWait,
      recreate,
      { name: 'delete_vm_reference', plan: 'Delete VM reference' },
    ],
    auto: 'recreate_vm_without_wait',
  },
  unresponsive_agent: {
    resolutions: [
      ignore,
      { name: 'reboot_vm', plan: 'Reboot VM' },
      recreateWithoutWait,
      recreate,
      { name: 'delete_vm', plan: 'Delete VM' },
      {
        name: 'delete_vm_reference',
        plan: 'Delete VM reference (forceful; may need to manually delete VM from the Cloud to avoid IP conflicts)',
      },
    ],
    auto: 'ignore',
  },
  mount_info_mismatch: {
    resolutions: [
      { name: 'ignore', plan: 'Ignore' },
      { name: 'reattach_disk', plan: 'Reattach disk to instance' },
      { name: 'reattach_disk_and_reboot', plan: 'Reattach disk and reboot instance' },
    ],
    auto: 'ignore',
  },
  missing_disk: {
    resolutions: [ignore, { name: 'delete_disk_reference', plan: 'Delete disk reference (DANGEROUS!)' }],
    auto: 'ignore',
  },
  inactive_disk: {
    resolutions: [
      ignore,
      { name: 'delete_disk', plan: 'Delete disk' },
      { name: 'activate_disk', plan: 'Activate disk' },
    ],
    auto: 'ignore',
  },
  invalid_problem: { resolutions: [{ name: 'close', plan: 'Close problem' }], auto: 'close' },
};

/** What a description is made from (the instance and disk as they are now). */
export interface DescribedResource {
  readonly label: string;
  readonly group: string;
  readonly instanceId: string;
  readonly index: number;
  readonly vmCid: string | null;
  readonly disk: { readonly cid: string; readonly size: number } | null;
}

const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
const withCid = (cid: string | null) => (cid === null ? '' : ` with cloud ID '${cid}'`);

/** BOSH's description of each problem type, word for word. */
export function describeProblem(
  type: ProblemType,
  resource: DescribedResource,
  data: Readonly<Record<string, unknown>>,
): string {
  const disk = resource.disk ?? { cid: text(data.disk_cid, 'unknown'), size: 0 };
  switch (type) {
    case 'missing_vm':
      return `VM for '${resource.label}'${withCid(resource.vmCid)} missing.`;
    case 'unresponsive_agent':
      return `VM for '${resource.label}'${withCid(resource.vmCid)} is not responding.`;
    case 'missing_disk':
      return `Disk '${disk.cid}' (${resource.group}/${resource.instanceId}, ${disk.size}M) is missing`;
    case 'inactive_disk':
      return `Disk '${disk.cid}' (${disk.size}M) for instance '${resource.group}/${resource.instanceId} (${resource.index})' is inactive`;
    case 'mount_info_mismatch': {
      const owners = Array.isArray(data.owner_vms) ? (data.owner_vms as string[]) : [];
      return [
        'Inconsistent mount information:',
        `Record shows that disk '${disk.cid}' should be mounted on ${resource.vmCid ?? ''}.`,
        'However it is currently :',
        owners.length === 0 ? '\tNot mounted in any VM' : `\tMounted on: ${owners.join(', ')}`,
      ].join('\n');
    }
    case 'invalid_problem':
      return invalidDescription(
        text(data.original_type, 'unknown_type'),
        resource.instanceId,
        text(data.error, 'unknown error'),
      );
  }
}

export function invalidDescription(originalType: string, resourceId: string, error: string): string {
  return `Problem (${originalType} ${resourceId}) is no longer valid: ${error}`;
}

export function isProblemType(value: string): value is ProblemType {
  return Object.hasOwn(problemKinds, value);
}
