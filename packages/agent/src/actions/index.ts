import type { AnyAction } from './action.ts';
import { addPersistentDisk } from './add-persistent-disk.ts';
import { apply } from './apply.ts';
import { cancelTask } from './cancel-task.ts';
import { compilePackage } from './compile-package.ts';
import { drain } from './drain.ts';
import { fetchLogs } from './fetch-logs.ts';
import { getState } from './get-state.ts';
import { getTask } from './get-task.ts';
import { info } from './info.ts';
import { listDisk } from './list-disk.ts';
import { migrateDisk } from './migrate-disk.ts';
import { mountDisk } from './mount-disk.ts';
import { ping } from './ping.ts';
import { prepare } from './prepare.ts';
import { reboot } from './reboot.ts';
import { removePersistentDisk } from './remove-persistent-disk.ts';
import { runErrand } from './run-errand.ts';
import { runScript } from './run-script.ts';
import { shutdown } from './shutdown.ts';
import { start } from './start.ts';
import { stop } from './stop.ts';
import { unmountDisk } from './unmount-disk.ts';
import { updateRootfs } from './update-rootfs.ts';
import { updateSettings } from './update-settings.ts';

const all: readonly AnyAction[] = [
  ping,
  info,
  getState,
  getTask,
  cancelTask,
  prepare,
  apply,
  drain,
  stop,
  start,
  runScript,
  runErrand,
  updateSettings,
  listDisk,
  addPersistentDisk,
  mountDisk,
  unmountDisk,
  removePersistentDisk,
  migrateDisk,
  compilePackage,
  fetchLogs,
  updateRootfs,
  reboot,
  shutdown,
];

/** The one map from wire method name to action. */
export const actions: ReadonlyMap<string, AnyAction> = new Map(all.map((a) => [a.method, a]));
