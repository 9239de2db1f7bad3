import type { Route } from '../api/route.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { DELETE_ROOTFS, type DeleteRootfsParams } from './delete-rootfs-task.ts';

/** `DELETE /rootfs/<name>/<version>` → 302 to a `delete_rootfs` task holding `lock:rootfs:<n>:<v>`. */
export function deleteRootfsRoute(tasks: TaskQueue): Route {
  return {
    method: 'DELETE',
    path: '/rootfs/:name/:version',
    async handle(request) {
      const name = request.params.name ?? '';
      const version = request.params.version ?? '';
      const params: DeleteRootfsParams = { name, version };
      const taskId = await tasks.enqueue({
        type: DELETE_ROOTFS,
        description: `delete rootfs: ${name}/${version}`,
        user: request.user,
        params,
        locks: [`lock:rootfs:${name}:${version}`],
      });
      return { kind: 'task', taskId };
    },
  };
}
