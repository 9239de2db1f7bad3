import { CancelTaskArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

export const cancelTask = defineAction({
  method: 'cancel_task',
  mode: 'sync',
  args: CancelTaskArgs,
  run: (ctx, [id]) => {
    ctx.tasks.cancel(id);
    return Promise.resolve('canceled' as const);
  },
});
