import { z } from 'zod';
import type { Command } from '../command.ts';
import { result } from '../output.ts';
import { onePositional } from './arg-schema.ts';

/**
 * `refit update-resurrection on|off`: `PUT /resurrection {"resurrection_paused": bool}`, the
 * director-wide switch; while off the director refuses the health monitor's `scan_and_fix`.
 */
export const updateResurrection: Command<{ readonly paused: boolean }> = {
  name: 'update-resurrection',
  summary: 'Enable/disable resurrection',
  usage: 'on|off',
  flags: [],
  args: z
    .object({ positionals: onePositional('on|off') })
    .transform(({ positionals }) => positionals)
    .pipe(z.enum(['on', 'off'], { message: "Expected 'on' or 'off'" }))
    .transform((value) => ({ paused: value === 'off' })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    await client.send('PUT', '/resurrection', signal, {
      body: {
        kind: 'bytes',
        contentType: 'application/json',
        data: JSON.stringify({ resurrection_paused: args.paused }),
      },
    });
    return result();
  },
};
