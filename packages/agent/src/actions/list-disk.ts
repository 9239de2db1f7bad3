import { z } from 'zod';
import { defineAction } from './action.ts';

export const listDisk = defineAction({
  method: 'list_disk',
  mode: 'async',
  args: z.array(z.unknown()),
  run: (ctx) => ctx.disks.list(),
});
