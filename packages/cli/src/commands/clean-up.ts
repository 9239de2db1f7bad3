import { z } from 'zod';
import type { CleanupDryRun } from '@refit/protocol';
import type { Command } from '../command.ts';
import { cleanUpDryRun, startCleanUp } from '../director-client/clean-up.ts';
import { result, tableItem, text, version, type Cell, type TableData } from '../output.ts';
import { flag, noPositionals } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

interface CleanUpArgs {
  readonly all: boolean;
  readonly dryRun: boolean;
  readonly keepOrphanedDisks: boolean;
}

const table = (title: string, header: string[], rows: Cell[][]): TableData => ({
  title,
  header,
  rows,
  sortBy: [{ column: 0, asc: true }],
});

/** The stock CLI's dry-run tables, with Refit's generic stemcells after the stemcells. */
export function cleanUpTables(plan: CleanupDryRun): TableData[] {
  return [
    table(
      'Unused Releases',
      ['Name', 'Version'],
      plan.releases.flatMap((r) => r.versions.map((v) => [text(r.name), version(v)])),
    ),
    table(
      'Unused Stemcells',
      ['Name', 'Version'],
      plan.stemcells.map((s) => [text(s.name), version(s.version)]),
    ),
    table(
      'Unused Root Filesystems',
      ['Name', 'Version'],
      plan.rootfs.map((r) => [text(r.name), version(r.version)]),
    ),
    table(
      'Unused Compiled Packages',
      ['Name', 'Stemcell OS', 'Stemcell Version'],
      plan.compiled_packages.map((c) => [
        text(c.package_name),
        text(c.stemcell_os),
        version(c.stemcell_version),
      ]),
    ),
    table(
      'Exported Releases',
      ['Blob ID'],
      plan.exported_releases.map((id) => [text(id)]),
    ),
    table(
      'Stale DNS Record Blobs',
      ['Blob ID'],
      plan.dns_blobs.map((id) => [text(id)]),
    ),
    table(
      'Orphaned Disks',
      ['Disk CID', 'Deployment', 'Instance', 'Size (mb)'],
      plan.orphaned_disks.map((d) => [
        text(d.disk_cid),
        text(d.deployment_name),
        text(d.instance_name),
        text(d.size === null ? '' : String(d.size)),
      ]),
    ),
    table(
      'Orphaned VMs',
      ['VM CID', 'Deployment', 'Instance'],
      plan.orphaned_vms.map((vm) => [text(vm.cid), text(vm.deployment_name), text(vm.instance_name)]),
    ),
  ];
}

/**
 * `refit clean-up [--all] [--dry-run] [--keep-orphaned-disks]` (the stock CLI's clean_up.go):
 * without `--dry-run` it confirms and follows the director's `clean up` task; with it, it asks
 * nothing and shows what would be deleted.
 */
export const cleanUp: Command<CleanUpArgs> = {
  name: 'clean-up',
  summary: 'Clean up releases, stemcells, disks, etc.',
  flags: [
    {
      name: 'all',
      kind: 'boolean',
      description:
        'Remove all unused releases, stemcells, etc.; otherwise most recent resources will be kept',
    },
    { name: 'dry-run', kind: 'boolean', description: 'Show what would be cleaned up' },
    { name: 'keep-orphaned-disks', kind: 'boolean', description: 'Keep orphaned disks' },
  ],
  args: z
    .object({
      positionals: noPositionals,
      flags: z.object({ all: flag, 'dry-run': flag, 'keep-orphaned-disks': flag }),
    })
    .transform(({ flags }) => ({
      all: flags.all,
      dryRun: flags['dry-run'],
      keepOrphanedDisks: flags['keep-orphaned-disks'],
    })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    if (args.dryRun) {
      return result(...cleanUpTables(await cleanUpDryRun(client, args, signal)).map(tableItem));
    }
    await deps.ui.confirm();
    await runStartedTask(deps, client, await startCleanUp(client, args, signal), signal);
    return result();
  },
};
