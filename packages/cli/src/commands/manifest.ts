import { z } from 'zod';
import type { Command } from '../command.ts';
import { deploymentManifest } from '../director-client/deployments.ts';
import { block, result } from '../output.ts';
import { noPositionals } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';

/** `refit -d DEP manifest`: the last successfully deployed manifest (`GET /deployments/<d>`). */
export const manifest: Command<Record<string, never>> = {
  name: 'manifest',
  aliases: ['man'],
  summary: 'Show deployment manifest',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const deployment = requiredDeployment(deps);
    const client = await deps.session.director();
    const text = await deploymentManifest(client, deployment, signal);
    return result(block(text));
  },
};
