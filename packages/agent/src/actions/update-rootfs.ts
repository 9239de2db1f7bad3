import { UpdateRootfsArgs, type UpdateRootfsResult } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { rootfsPaths } from '../rootfs/boot-state.ts';
import { stageRootfs } from '../rootfs/stage-rootfs.ts';
import { defineAction } from './action.ts';

/**
 * OS reload, step one, while jobs keep running: stage the generic stemcell `blobstore_id`
 * (rootfs.tgz, multi-digest `digest`) for the next boot. Progress is visible through get_task.
 * `{force: true}` restages a root already staged or running into a fresh directory (repairs a
 * drifted root: `recreate --strategy reload`).
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
    const result = await stageRootfs({
      blobstoreId,
      digest,
      blobstore: ctx.settings.blobstore(),
      paths: rootfsPaths(ctx.paths.base),
      installTimeoutMs: ctx.installTimeoutMs ?? 120_000,
      force: options?.force === true,
      report: (progress) => ctx.tasks.report(signal, progress),
      signal,
    });
    ctx.log.info(
      `update_rootfs: ${result.version} (${result.sha256}) ${result.already_staged ? 'already staged' : options?.force === true ? 'restaged (forced)' : 'staged'} at ${result.staged_root}`,
    );
    return result;
  },
});
