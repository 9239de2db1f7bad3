import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { DELETE_RELEASE, type DeleteReleaseParams } from './delete-release-task.ts';
import { ReleaseNotFound } from './release-errors.ts';
import { ReleaseStore } from './release-store.ts';
import { RELEASES_LOCK } from './upload-release-route.ts';

/**
 * `DELETE /releases/<name>[?version=<v>][&force=true]` → 302 to a `delete_release` task
 * (`delete release: <name>`). An unknown release is a 404 here, as in BOSH's controller; an
 * unknown version fails the task.
 */
export function deleteReleaseRoute(db: Db, tasks: TaskQueue): Route {
  return {
    method: 'DELETE',
    path: '/releases/:name',
    async handle(request) {
      const name = request.params.name ?? '';
      if (!(await new ReleaseStore(db).findRelease(name))) {
        throw new ReleaseNotFound(`Release '${name}' doesn't exist`);
      }
      const version = request.query.get('version');
      const params: DeleteReleaseParams = {
        name,
        version: version === null || version === '' ? null : version,
        force: request.query.get('force') === 'true',
      };
      const taskId = await tasks.enqueue({
        type: DELETE_RELEASE,
        description: `delete release: ${name}`,
        user: request.user,
        params,
        locks: [RELEASES_LOCK],
      });
      return { kind: 'task', taskId };
    },
  };
}
