import { z } from 'zod';
import type { Command } from '../command.ts';
import { latestCloudConfig } from '../director-client/cloud-configs.ts';
import { block, result } from '../output.ts';
import { noPositionals, optionalString } from './arg-schema.ts';

/** `refit cloud-config [--name NAME]`: prints the latest cloud config's YAML. */
export const cloudConfig: Command<{ readonly name: string }> = {
  name: 'cloud-config',
  aliases: ['cc'],
  summary: 'Show current cloud config',
  flags: [{ name: 'name', kind: 'string', description: "Cloud-Config name (default: 'default')" }],
  args: z
    .object({ positionals: noPositionals, flags: z.object({ name: optionalString }) })
    .transform(({ flags }) => ({ name: flags.name ?? 'default' })),
  async run(deps, { name }, signal) {
    const client = await deps.session.director();
    return result(block(await latestCloudConfig(client, name, signal)));
  },
};
