// The director's contracts, for other packages and tests. main.ts is the executable; it is not
// exported (importing it starts a director). Deeper files are reachable as `@refit/director/<path>`.
export * from './errors.ts';
export type { DirectorDeps, EventRecorder, Feature } from './feature.ts';
export { Dialect, type Db, type Migration, type Row, type SqlValue } from './db/db.ts';
export type {
  EnqueueRequest,
  EventLog,
  EventStage,
  StageProgress,
  TaskContext,
  TaskHandler,
  TaskLog,
  TaskQueue,
} from './tasks/task-context.ts';
export type { HttpMethod, Route, RouteReply, RouteRequest } from './api/route.ts';
export { readJson, readText } from './api/body.ts';
export type { DirectorConfig } from './config/director-config.ts';
