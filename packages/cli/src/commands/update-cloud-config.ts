import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Command } from '../command.ts';
import {
  diffCloudConfig,
  updateCloudConfig as postCloudConfig,
  type DiffLine,
} from '../director-client/cloud-configs.ts';
import { CliError } from '../errors.ts';
import { block, result } from '../output.ts';
import { onePositional, optionalString } from './arg-schema.ts';

/** The stock CLI's diff lines: `+ ` added, `- ` removed, two spaces for context. */
export function diffText(lines: readonly DiffLine[]): string {
  return lines
    .map((l) => `${l.mark === 'added' ? '+ ' : l.mark === 'removed' ? '- ' : '  '}${l.text}\n`)
    .join('');
}

/** `refit update-cloud-config FILE [--name NAME]`: shows the director's diff, confirms, posts. */
export const updateCloudConfig: Command<{ readonly path: string; readonly name: string }> = {
  name: 'update-cloud-config',
  aliases: ['ucc'],
  summary: 'Update current cloud config',
  usage: 'PATH',
  flags: [{ name: 'name', kind: 'string', description: "Cloud-Config name (default: 'default')" }],
  args: z
    .object({ positionals: onePositional('PATH'), flags: z.object({ name: optionalString }) })
    .transform(({ positionals, flags }) => ({ path: positionals, name: flags.name ?? 'default' })),
  async run(deps, { path, name }, signal) {
    let yaml: string;
    try {
      yaml = await readFile(path, 'utf8');
    } catch (error) {
      throw new CliError('file', `Reading cloud config '${path}': ${(error as Error).message}`, {
        cause: error,
      });
    }
    const client = await deps.session.director();
    const diff = await diffCloudConfig(client, name, yaml, signal);
    if (diff.length > 0) deps.ui.show(block(diffText(diff)));
    await deps.ui.confirm();
    await postCloudConfig(client, name, yaml, signal);
    return result();
  },
};
