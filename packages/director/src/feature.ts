import type { Route } from './api/route.ts';
import type { Blobstore } from './blobstore/blobstore.ts';
import type { Cloud } from './cpi-client/cloud.ts';
import type { Db, Migration } from './db/db.ts';
import type { TaskHandler, TaskQueue } from './tasks/task-context.ts';

/** Records a BOSH event (`GET /events`). */
export interface EventRecorder {
  record(event: {
    readonly action: string;
    readonly objectType: string;
    readonly objectName: string | null;
    readonly user: string;
    readonly task?: number | null;
    readonly deployment?: string | null;
    readonly instance?: string | null;
    readonly context?: Readonly<Record<string, unknown>>;
    readonly error?: string | null;
    readonly parentId?: string | null;
  }): Promise<string>;
}

/** What `main.ts` builds once and hands to every feature. */
export interface DirectorDeps {
  readonly db: Db;
  readonly tasks: TaskQueue;
  readonly blobstore: Blobstore;
  readonly cloud: Cloud;
  readonly events: EventRecorder;
  readonly stateDir: string;
  /** Scratch space under the state dir for uploads in flight; emptied at every start. */
  readonly tmpDir: string;
  readonly directorUuid: string;
  readonly directorName: string;
}

/**
 * A slice of the director (stemcells, rootfs, configs, …): its routes, its task types, its
 * schema. `main.ts` lists the features; nothing else wires them.
 */
export interface Feature {
  readonly name: string;
  readonly migrations: readonly Migration[];
  routes(deps: DirectorDeps): readonly Route[];
  taskHandlers(deps: DirectorDeps): readonly TaskHandler<unknown>[];
  /** Runs at start, after migrations and before serving: e.g. remove half-written state. */
  startup?(deps: DirectorDeps): Promise<void>;
}
