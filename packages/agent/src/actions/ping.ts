import { z } from 'zod';
import { defineAction } from './action.ts';

export const ping = defineAction({
  method: 'ping',
  mode: 'sync',
  args: z.array(z.unknown()),
  run: () => Promise.resolve('pong' as const),
});
