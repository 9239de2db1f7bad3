import { z } from 'zod';
import { defineAction } from './action.ts';

/** The agent API version the director adapts to (reference §3.3). */
export const info = defineAction({
  method: 'info',
  mode: 'sync',
  args: z.array(z.unknown()),
  run: () => Promise.resolve({ api_version: 1 }),
});
