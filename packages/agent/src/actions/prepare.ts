import { PrepareArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

/** Downloads, verifies and unpacks jobs and packages ahead of apply; nothing restarts. */
export const prepare = defineAction({
  method: 'prepare',
  mode: 'async',
  args: PrepareArgs,
  async run(ctx, [spec], signal) {
    await ctx.installer.prepare(spec, signal);
    return 'prepared' as const;
  },
});
