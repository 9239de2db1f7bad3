import { z } from 'zod';
import type { Command } from '../command.ts';
import { deleteDeployment as requestDelete, listDeployments } from '../director-client/deployments.ts';
import { TaskFailedError } from '../director-client/errors.ts';
import { result } from '../output.ts';
import { flag, noPositionals } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';

/**
 * `refit -d DEP delete-deployment [--force]`: confirms, `DELETE /deployments/<d>`, follows the
 * task. As the stock CLI, a failed task is ignored when the deployment is gone anyway.
 */
export const deleteDeployment: Command<{ readonly force: boolean }> = {
  name: 'delete-deployment',
  aliases: ['deld'],
  summary: 'Delete deployment',
  flags: [{ name: 'force', kind: 'boolean', description: 'Ignore errors' }],
  args: z
    .object({ positionals: noPositionals, flags: z.object({ force: flag }) })
    .transform(({ flags }) => ({ force: flags.force })),
  async run(deps, args, signal) {
    const deployment = requiredDeployment(deps);
    const client = await deps.session.director();
    await deps.ui.confirm();
    const taskId = await requestDelete(client, deployment, args.force, signal);
    try {
      await runStartedTask(deps, client, taskId, signal);
    } catch (error) {
      if (!(error instanceof TaskFailedError)) throw error;
      if ((await listDeployments(client, signal)).some((d) => d.name === deployment)) throw error;
    }
    return result();
  },
};
