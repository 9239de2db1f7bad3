import type { Command } from '../command.ts';
import { aliasEnv } from './alias-env.ts';
import { cck } from './cck.ts';
import { cancelTask } from './cancel-task.ts';
import { cloudConfig } from './cloud-config.ts';
import { deleteRootfs } from './delete-rootfs.ts';
import { deleteStemcell } from './delete-stemcell.ts';
import { env } from './env.ts';
import { environments } from './environments.ts';
import { events } from './events.ts';
import { locks } from './locks.ts';
import { logIn } from './log-in.ts';
import { logOut } from './log-out.ts';
import { rootfs } from './rootfs.ts';
import { stemcells } from './stemcells.ts';
import { task } from './task.ts';
import { tasks } from './tasks.ts';
import { updateCloudConfig } from './update-cloud-config.ts';
import { uploadRootfs } from './upload-rootfs.ts';
import { uploadStemcell } from './upload-stemcell.ts';
import { unaliasEnv } from './unalias-env.ts';
import { deleteDeployment } from './delete-deployment.ts';
import { deleteRelease } from './delete-release.ts';
import { deploy } from './deploy.ts';
import { deployments } from './deployments.ts';
import { instances } from './instances.ts';
import { manifest } from './manifest.ts';
import { recreate } from './recreate.ts';
import { releases } from './releases.ts';
import { restart } from './restart.ts';
import { start } from './start.ts';
import { stop } from './stop.ts';
import { uploadRelease } from './upload-release.ts';
import { updateResurrection } from './update-resurrection.ts';
import { vms } from './vms.ts';
import { cleanUp } from './clean-up.ts';
import { orphanedVms } from './orphaned-vms.ts';
import { disks } from './disks.ts';
import { deleteDisk } from './delete-disk.ts';
import { orphanDisk } from './orphan-disk.ts';
import { attachDisk } from './attach-disk.ts';
import { errands } from './errands.ts';
import { runErrand } from './run-errand.ts';

/** Every command, in help order. The one map from command name to module. */
export const commandList: readonly Command<unknown>[] = [
  env,
  environments,
  aliasEnv,
  unaliasEnv,
  logIn,
  logOut,
  task,
  tasks,
  cancelTask,
  locks,
  events,
  cloudConfig,
  updateCloudConfig,
  stemcells,
  uploadStemcell,
  deleteStemcell,
  rootfs,
  uploadRootfs,
  deleteRootfs,
  releases,
  uploadRelease,
  deleteRelease,
  deployments,
  deploy,
  manifest,
  deleteDeployment,
  instances,
  vms,
  start,
  stop,
  restart,
  recreate,
  cck,
  updateResurrection,
  cleanUp,
  orphanedVms,
  disks,
  deleteDisk,
  orphanDisk,
  attachDisk,
  errands,
  runErrand,
];

export const commandRegistry: ReadonlyMap<string, Command<unknown>> = new Map(
  commandList.flatMap((command) => [command.name, ...(command.aliases ?? [])].map((name) => [name, command])),
);
