import type { z } from 'zod';
import type { AgentBlobstore } from '../blobstore/agent-blobstore.ts';
import type { PersistentDisks } from '../disks/persistent-disks.ts';
import type { JobInstaller } from '../jobs/installer.ts';
import type { ProcessSupervisor } from '../jobs/process-supervisor.ts';
import type { Log } from '../log.ts';
import type { AgentPaths } from '../paths.ts';
import type { SettingsStore } from '../settings.ts';
import type { SpecStore } from '../spec-store.ts';
import type { VitalsSampler } from '../vitals.ts';
import type { TaskBoard } from '../dispatcher.ts';

/** What actions work with. Built once in main.ts (or a test) and handed to every action. */
export interface ActionContext {
  readonly paths: AgentPaths;
  readonly settings: SettingsStore;
  readonly specs: SpecStore;
  readonly blobstore: AgentBlobstore;
  readonly installer: JobInstaller;
  readonly supervisor: ProcessSupervisor;
  readonly disks: PersistentDisks;
  readonly vitals: VitalsSampler;
  readonly tasks: TaskBoard;
  readonly log: Log;
  /** Waits the seconds a drain script asks for. */
  readonly sleep: (seconds: number, signal: AbortSignal) => Promise<void>;
  /** run_script's bound per script. */
  readonly scriptTimeoutMs: number;
  /** update_rootfs's bound on the stemcell's install script (default 120 s). */
  readonly installTimeoutMs?: number;
  /** reboot(2) of the machine the agent runs in (a refusal in tests). */
  readonly rebootMachine: () => Promise<void>;
  /** Powers the machine off (a refusal in tests). */
  readonly powerOffMachine: () => Promise<void>;
}

/**
 * One agent method: its wire name, whether it answers at once (`sync`) or as a task polled with
 * get_task (`async`), the schema of its arguments array, and what it does.
 */
export interface Action<A, R> {
  readonly method: string;
  readonly mode: 'sync' | 'async';
  readonly args: z.ZodType<A>;
  run(ctx: ActionContext, args: A, signal: AbortSignal): Promise<R>;
}

/** Erases an action's types for the registry; the dispatcher parses arguments with its schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds actions of every type
export type AnyAction = Action<any, unknown>;

export const defineAction = <A, R>(action: Action<A, R>): Action<A, R> => action;

export function sleepSeconds(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, seconds * 1000);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
