import { z } from 'zod';
import {
  AddPersistentDiskArgs,
  AgentStateValue,
  ApplyArgs,
  CancelTaskArgs,
  CompilePackageArgs,
  CompilePackageResult,
  DiskCidArgs,
  DrainArgs,
  FetchLogsArgs,
  GetStateArgs,
  GetTaskArgs,
  PrepareArgs,
  RunScriptArgs,
  UpdateSettingsArgs,
} from './agent-actions.ts';
import { MigrateDiskArgs, MigrateDiskResult } from './disk-migration.ts';
import { RunErrandArgs, RunErrandResult } from './errands.ts';
import { RebootArgs, RebootResult, UpdateRootfsArgs, UpdateRootfsResult } from './rootfs-staging.ts';

const NoArgs = z.tuple([]);
const Anything = z.unknown();

/**
 * The agent methods the director calls (reference §3.3), each with its arguments and the final
 * value it answers (after `get_task` for asynchronous ones). The director's agent client is
 * typed by this map and parses every final value with `result` at its edge.
 */
export const AgentMethods = {
  ping: { args: NoArgs, result: z.literal('pong') },
  info: { args: NoArgs, result: z.object({ api_version: z.number().int() }).passthrough() },
  get_state: { args: GetStateArgs, result: AgentStateValue },
  get_task: { args: GetTaskArgs, result: Anything },
  cancel_task: { args: CancelTaskArgs, result: Anything },
  prepare: { args: PrepareArgs, result: Anything },
  apply: { args: ApplyArgs, result: Anything },
  /** Seconds the drain took (static) or 0; `status` answers the same. */
  drain: { args: DrainArgs, result: z.number().int() },
  stop: { args: NoArgs, result: Anything },
  start: { args: NoArgs, result: Anything },
  run_script: { args: RunScriptArgs, result: Anything },
  /** Runs an errand job's bin/run; answers its exit code and the tails of stdout and stderr. */
  run_errand: { args: RunErrandArgs, result: RunErrandResult },
  update_settings: { args: UpdateSettingsArgs, result: Anything },
  list_disk: { args: NoArgs, result: z.array(z.string()) },
  add_persistent_disk: { args: AddPersistentDiskArgs, result: Anything },
  mount_disk: { args: DiskCidArgs, result: Anything },
  unmount_disk: { args: DiskCidArgs, result: Anything },
  remove_persistent_disk: { args: DiskCidArgs, result: Anything },
  /** Copies the store onto the new disk and mounts it in place of the old one. */
  migrate_disk: { args: MigrateDiskArgs, result: MigrateDiskResult },
  compile_package: { args: CompilePackageArgs, result: CompilePackageResult },
  fetch_logs: {
    args: FetchLogsArgs,
    result: z.object({ blobstore_id: z.string(), sha1: z.string() }).passthrough(),
  },
  /** OS reload: stage a generic stemcell for the next boot (async, jobs keep running). */
  update_rootfs: { args: UpdateRootfsArgs, result: UpdateRootfsResult },
  /** Answers, then stops jobs, unmounts the persistent disk and reboots the VM. */
  reboot: { args: RebootArgs, result: RebootResult },
  /** BOSH's `shutdown`: the VM of an orphaned instance VM powers off (answered before it goes). */
  shutdown: { args: NoArgs, result: Anything },
} as const;

export type AgentMethod = keyof typeof AgentMethods;
/** What the caller passes (defaults of the schemas may be left out). */
export type AgentMethodArgs<M extends AgentMethod> = z.input<(typeof AgentMethods)[M]['args']>;
/** The parsed final value. */
export type AgentMethodResult<M extends AgentMethod> = z.output<(typeof AgentMethods)[M]['result']>;
