import type { Feature } from '../feature.ts';
import { DbEventRecorder } from './db-event-recorder.ts';
import { eventRoutes } from './events-routes.ts';

/** `GET /events`; the recorder features use is built in main.ts from the same table. */
export const eventsFeature: Feature = {
  name: 'events',
  migrations: [],
  routes: (deps) => eventRoutes(new DbEventRecorder(deps.db)),
  taskHandlers: () => [],
};
