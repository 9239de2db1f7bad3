import { z } from 'zod';
import type { Command } from '../command.ts';
import { attachDisk as requestAttach } from '../director-client/disks.ts';
import { result } from '../output.ts';
import { optionalString } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';

interface AttachDiskArgs {
  readonly group: string;
  readonly instance: string;
  readonly cid: string;
  readonly diskProperties: string | undefined;
}

/**
 * `refit -d DEP attach-disk INSTANCE-GROUP/INSTANCE-ID CID [--disk-properties=copy|JSON]`: the
 * disk (an orphan, or one the director never had) becomes the persistent disk of a stopped
 * instance; its current disk is orphaned. No confirmation, as the stock CLI.
 */
export const attachDisk: Command<AttachDiskArgs> = {
  name: 'attach-disk',
  summary: 'Attaches disk to an instance',
  usage: 'INSTANCE-GROUP/INSTANCE-ID DISK-CID',
  flags: [
    {
      name: 'disk-properties',
      kind: 'string',
      valueName: 'DISK-PROPERTIES',
      description:
        "Disk properties to use for the new disk. Use 'copy' to copy the properties from the currently attached disk",
    },
  ],
  args: z
    .object({
      positionals: z.array(z.string()),
      flags: z.object({ 'disk-properties': optionalString }),
    })
    .transform(({ positionals, flags }, ctx) => {
      const [slug = '', cid = '', ...rest] = positionals;
      const [group = '', instance = '', ...extra] = slug.split('/');
      if (positionals.length !== 2 || rest.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected two arguments: INSTANCE-GROUP/INSTANCE-ID DISK-CID',
        });
        return z.NEVER;
      }
      if (group === '' || instance === '' || extra.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `Expected '${slug}' to be in format 'INSTANCE-GROUP/INSTANCE-ID'`,
        });
        return z.NEVER;
      }
      const diskProperties = flags['disk-properties'];
      if (diskProperties !== undefined && diskProperties !== 'copy' && !isJsonObject(diskProperties)) {
        ctx.addIssue({ code: 'custom', message: "--disk-properties: expected 'copy' or a JSON object" });
        return z.NEVER;
      }
      return { group, instance, cid, diskProperties };
    }),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    const deployment = requiredDeployment(deps);
    const taskId = await requestAttach(client, { deployment, ...args }, signal);
    await runStartedTask(deps, client, taskId, signal);
    return result();
  },
};

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
