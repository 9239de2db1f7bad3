import { GetTaskArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

export const getTask = defineAction({
  method: 'get_task',
  mode: 'sync',
  args: GetTaskArgs,
  run: (ctx, [id]) => Promise.resolve(ctx.tasks.get(id)),
});
