import type { Route } from '../api/route.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { DELETE_STEMCELL, type DeleteStemcellParams } from './delete-stemcell-task.ts';

/**
 * `DELETE /stemcells/<name>/<version>[?force=true]` → 302 to a `delete_stemcell` task holding
 * `lock:stemcells:<name>:<version>`. An unknown stemcell fails the task, not the request.
 */
export function deleteStemcellRoute(tasks: TaskQueue): Route {
  return {
    method: 'DELETE',
    path: '/stemcells/:name/:version',
    async handle(request) {
      const name = request.params.name ?? '';
      const version = request.params.version ?? '';
      const params: DeleteStemcellParams = { name, version, force: request.query.get('force') === 'true' };
      const taskId = await tasks.enqueue({
        type: DELETE_STEMCELL,
        description: `delete stemcell: ${name}/${version}`,
        user: request.user,
        params,
        locks: [`lock:stemcells:${name}:${version}`],
      });
      return { kind: 'task', taskId };
    },
  };
}
