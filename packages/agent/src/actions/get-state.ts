import { GetStateArgs, type AgentStateValue } from '@refit/protocol';
import { bootedIdentity } from '../rootfs/booted-identity.ts';
import { processVitals } from '../vitals.ts';
import { defineAction } from './action.ts';
import { jobState } from './job-state.ts';

/** The stored apply spec plus the agent's view: job state, processes, VM, stemcell, vitals with "full". */
export const getState = defineAction({
  method: 'get_state',
  mode: 'sync',
  args: GetStateArgs,
  async run(ctx, args): Promise<AgentStateValue> {
    const spec = await ctx.specs.get();
    const statuses = await ctx.supervisor.status();
    const value: AgentStateValue = {
      ...spec,
      agent_id: ctx.settings.agentId,
      job_state: await jobState(ctx, statuses),
      processes: await Promise.all(statuses.map(processVitals)),
      vm: { name: ctx.settings.settings.vm.name },
    };
    const stemcell = await bootedIdentity(ctx.paths);
    if (stemcell) value.stemcell = stemcell;
    if (args[0] === 'full') value.vitals = await ctx.vitals.sample();
    return value;
  },
});
