import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { defineAction } from './action.ts';

/** Stops every supervised process (reverse dependency order) and leaves the stopped marker. */
export const stop = defineAction({
  method: 'stop',
  mode: 'async',
  args: z.array(z.unknown()),
  async run(ctx, _args, signal) {
    await ctx.supervisor.stopAll(AbortSignal.any([signal, AbortSignal.timeout(5 * 60_000)]));
    await mkdir(dirname(ctx.paths.stoppedMarker), { recursive: true });
    await writeFile(ctx.paths.stoppedMarker, '');
    return 'stopped' as const;
  },
});
