import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { readJson } from '../api/body.ts';
import { BadManifest } from '../errors.ts';
import type { Feature } from '../feature.ts';
import type { TaskHandler } from './task-context.ts';

/**
 * TEST ONLY. Listed by main.ts only when REFIT_DIRECTOR_TEST_TASKS=1: the end-to-end tests need
 * tasks that run for as long as they like (cancellation, SIGKILL mid-task, locks) before real
 * long tasks exist. Never enable it on a real director: anyone with credentials can queue them.
 */
export const TEST_TASK = 'test_task';

const TestTaskParams = z.strictObject({
  seconds: z.number().min(0).max(3600).default(0),
  lines: z.number().int().min(0).max(100_000).default(1),
  fail: z.string().optional(),
  deployment: z.string().optional(),
  locks: z.array(z.string()).default([]),
  marker: z.string().default(''),
});
type TestTaskParams = z.infer<typeof TestTaskParams>;

export const testTaskFeature: Feature = {
  name: 'test-tasks',
  migrations: [],
  routes: (deps) => [
    {
      method: 'POST',
      path: '/test_tasks',
      async handle(request) {
        const params = await readJson(request, TestTaskParams);
        const taskId = await deps.tasks.enqueue({
          type: TEST_TASK,
          description: `test task ${params.marker}`.trim(),
          user: request.user,
          deployment: params.deployment ?? null,
          params,
          locks: params.locks,
        });
        return { kind: 'task', taskId };
      },
    },
  ],
  taskHandlers(deps) {
    const handler: TaskHandler<TestTaskParams> = {
      type: TEST_TASK,
      parseParams: (raw) => TestTaskParams.parse(raw),
      async run(ctx, params) {
        const stage = ctx.events.stage('Testing', { tags: [params.marker], total: params.lines });
        for (let i = 1; i <= params.lines; i += 1) {
          await stage.task(`step ${i}`, (progress) => {
            progress.status(`working on ${i}`, 50);
            return Promise.resolve();
          });
        }
        ctx.debug.write(`test task ${ctx.taskId} waiting ${params.seconds}s`);
        await sleep(params.seconds * 1000, undefined, { signal: ctx.signal });
        if (params.fail !== undefined) throw new BadManifest(params.fail);
        ctx.result.write(JSON.stringify({ marker: params.marker }));
        return `test done ${params.marker}`.trim();
      },
      async recover(params) {
        await appendFile(join(deps.stateDir, 'test-task-recovered'), `${params.marker}\n`);
      },
    };
    return [handler];
  },
};
