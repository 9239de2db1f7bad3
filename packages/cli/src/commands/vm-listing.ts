import type { CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { listDeployments } from '../director-client/deployments.ts';
import { parseVmInfos, startVmInfosTask, type VmInfo } from '../director-client/vm-infos.ts';
import { runStartedTask } from './follow-events.ts';

/**
 * The VMs or instances of the `-d` deployment, or of every deployment (`GET /deployments` first)
 * when none is given: one `format=full` task per deployment, its result lines parsed.
 */
export async function vmInfosByDeployment(
  deps: CommandDeps,
  client: DirectorClient,
  kind: 'vms' | 'instances',
  signal: AbortSignal,
): Promise<{ readonly deployment: string; readonly infos: VmInfo[] }[]> {
  const names =
    deps.globals.deployment === undefined
      ? (await listDeployments(client, signal)).map((d) => d.name)
      : [deps.globals.deployment];
  const listed = [];
  for (const deployment of names) {
    const taskId = await startVmInfosTask(client, deployment, kind, signal);
    const output = await runStartedTask(deps, client, taskId, signal);
    listed.push({ deployment, infos: parseVmInfos(deployment, output) });
  }
  return listed;
}
