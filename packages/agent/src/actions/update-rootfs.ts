import { UpdateRootfsArgs, type UpdateRootfsResult } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { rootfsPaths } from '../rootfs/boot-state.ts';
import { stageRootfs } from '../rootfs/stage-rootfs.ts';
import { checkManifestVersion, refuseDowngrade, type RootfsVersionPolicy } from '../rootfs/version-order.ts';
import { bootedStemcell } from '../vitals.ts';
import { defineAction } from './action.ts';

/**
 * OS reload, step one, while jobs keep running: stage the generic stemcell `blobstore_id`
 * (rootfs.tgz, multi-digest `digest`) for the next boot. Progress is visible through get_task.
 * `{force: true}` restages a root already staged or running into a fresh directory (repairs a
 * drifted root: `recreate --strategy reload`).
 * A root older than the booted one is refused (before any download when the director names the
 * `version`, else as soon as rootfs.MF is read, before anything is unpacked) unless
 * `{allow_downgrade: true}`. `{root_archive_sha256}` (root.tar's sha256, from the director's
 * upload) lets a root the VM still keeps (its previous one: a rollback) stage without a download.
 */
export const updateRootfs = defineAction({
  method: 'update_rootfs',
  mode: 'async',
  args: UpdateRootfsArgs,
  async run(ctx, [blobstoreId, digest, options], signal): Promise<UpdateRootfsResult> {
    // One staging at a time (this task counts itself): two would share download and root dirs.
    if (ctx.tasks.runningOf('update_rootfs') > 1) {
      throw new AgentError(AgentErrorCode.InvalidArguments, 'another update_rootfs is running');
    }
    const policy: RootfsVersionPolicy = {
      booted: (await bootedStemcell(ctx.paths))?.version ?? null,
      declared: options?.version ?? null,
      allowDowngrade: options?.allow_downgrade === true,
    };
    if (policy.declared !== null) refuseDowngrade(policy, policy.declared, 'stemcell');
    const result = await stageRootfs({
      blobstoreId,
      digest,
      blobstore: ctx.settings.blobstore(),
      paths: rootfsPaths(ctx.paths.base),
      installTimeoutMs: ctx.installTimeoutMs ?? 120_000,
      force: options?.force === true,
      checkVersion: (version) => checkManifestVersion(policy, version),
      ...(options?.root_archive_sha256 === undefined
        ? {}
        : { rootArchiveSha256: options.root_archive_sha256 }),
      log: (line) => ctx.log.info(line),
      report: (progress) => ctx.tasks.report(signal, progress),
      signal,
    });
    ctx.log.info(
      `update_rootfs: ${result.version} (${result.sha256}) ${result.already_staged ? 'already staged' : result.reused_kept_root === true ? 'staged again from the kept root' : options?.force === true ? 'restaged (forced)' : 'staged'} at ${result.staged_root}`,
    );
    return result;
  },
});
