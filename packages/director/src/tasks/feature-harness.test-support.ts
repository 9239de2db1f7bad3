// A director's features in process for tests: a database of the given backend with their
// migrations, the real TaskRunner with their task handlers, and the routes of one of them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from '../api/route.ts';
import type { Blobstore } from '../blobstore/blobstore.ts';
import { silentLog } from '../config/director-log.ts';
import type { Cloud } from '../cpi-client/cloud.ts';
import { coreMigration } from '../db/core-migration.ts';
import type { Migration } from '../db/db.ts';
import type { TestBackend, TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps, Feature } from '../feature.ts';
import { TaskRunner } from './task-runner.ts';
import { TaskStore } from './task-store.ts';

export interface FeatureHarness {
  readonly database: TestDatabase;
  readonly runner: TaskRunner;
  readonly deps: DirectorDeps;
  /** The routes of `routesOf`. */
  readonly routes: readonly Route[];
  /** The state dir (task outputs under it). */
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startFeatures(
  backend: TestBackend,
  options: {
    readonly name: string;
    /** Schema the features do not own but read (stemcells, releases, …), after the core one. */
    readonly migrations: readonly Migration[];
    readonly features: readonly Feature[];
    readonly routesOf: Feature;
    readonly cloud: Cloud;
  },
): Promise<FeatureHarness> {
  const database = await backend.create({
    migrations: [coreMigration, ...options.migrations, ...options.features.flatMap((f) => f.migrations)],
  });
  const dir = await mkdtemp(join(tmpdir(), `refit-${options.name}-`));
  const runner = new TaskRunner({
    store: new TaskStore(database.db),
    stateDir: dir,
    workers: 2,
    runnerId: `${options.name}-test`,
    log: silentLog,
    pollMs: 20,
  });
  const deps: DirectorDeps = {
    db: database.db,
    tasks: runner,
    blobstore: {} as Blobstore,
    cloud: options.cloud,
    events: new DbEventRecorder(database.db),
    stateDir: dir,
    tmpDir: join(dir, 'tmp'),
    directorUuid: 'uuid',
    directorName: 'test',
  };
  runner.register(options.features.flatMap((f) => f.taskHandlers(deps)));
  const routes = options.routesOf.routes(deps);
  runner.start();
  return {
    database,
    runner,
    deps,
    routes,
    dir,
    async stop() {
      await runner.stop(2000);
      await database.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
