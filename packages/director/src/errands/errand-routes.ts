import { ErrandRunRequest, type ErrandListEntry } from '@refit/protocol';
import { readJson } from '../api/body.ts';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { RunErrandError } from './errand-errors.ts';
import { RUN_ERRAND, type RunErrandParams } from './run-errand-task.ts';
import { findErrands } from './find-errands.ts';

/**
 * BOSH's errand API (deployments_controller.rb): `GET /deployments/<d>/errands` lists
 * `[{name}]`; `POST /deployments/<d>/errands/<name>/runs` with `{keep_alive, when_changed,
 * instances: [{group, id}]}` queues `run errand NAME` under the deployment's lock.
 */
export function errandRoutes(db: Db, tasks: TaskQueue): Route[] {
  return [
    {
      method: 'GET',
      path: '/deployments/:deployment/errands',
      async handle(request) {
        const body: ErrandListEntry[] = (await findErrands(db, request.params.deployment ?? '')).map((e) => ({
          name: e.name,
        }));
        return { kind: 'json', body };
      },
    },
    {
      method: 'POST',
      path: '/deployments/:deployment/errands/:name/runs',
      async handle(request) {
        const deployment = request.params.deployment ?? '';
        const name = request.params.name ?? '';
        const body = await readJson(request, ErrandRunRequest);
        // Refused before a task: an unknown deployment (404) or errand (400), as BOSH does.
        if (!(await findErrands(db, deployment)).some((e) => e.name === name))
          throw new RunErrandError(`Errand '${name}' doesn't exist`);
        const params: RunErrandParams = {
          deployment,
          name,
          keepAlive: body.keep_alive,
          whenChanged: body.when_changed,
          instances: body.instances.map((i) => ({ group: i.group, id: i.id })),
        };
        const taskId = await tasks.enqueue({
          type: RUN_ERRAND,
          description: `run errand ${name}`,
          user: request.user,
          deployment,
          params,
          locks: [`lock:deployment:${deployment}`],
        });
        return { kind: 'task', taskId };
      },
    },
  ];
}
