import { directory, symlink, textFile, type RootEntry } from './root-entry.ts';
import { INIT_PATH } from './init-script.ts';
import { initScript } from './init-script.ts';

export const NODE_PATH = 'usr/local/bin/node';
export const AGENT_BUNDLE_PATH = 'var/vcap/bosh/lib/refit-agent.mjs';
export const AGENT_COMMAND_PATH = 'var/vcap/bosh/bin/refit-agent';
export const VCAP_UID = 1000;
export const VCAP_GID = 1000;

/**
 * What every refit root gets on top of its OS: the agent (one bundled module and a command that
 * runs it on the root's node), the init, and BOSH's /var/vcap layout.
 */
export function refitLayer(agent: { bundleFile: string; size: number }, heartbeatSeconds = 30): RootEntry[] {
  const vcapGroup = { gid: VCAP_GID };
  return [
    directory('var/vcap'),
    directory('var/vcap/bosh'),
    directory('var/vcap/bosh/bin'),
    // Mount points refit-cpi-local uses: the config drive (settings) and attached disks.
    directory('var/vcap/bosh/config-drive'),
    directory('var/vcap/bosh/disks'),
    directory('var/vcap/bosh/etc'),
    directory('var/vcap/bosh/lib'),
    directory('var/vcap/bosh/log', { mode: 0o700 }),
    directory('var/vcap/data', { mode: 0o770, ...vcapGroup }),
    directory('var/vcap/store', { mode: 0o700 }),
    directory('var/vcap/jobs', { mode: 0o750, ...vcapGroup }),
    directory('var/vcap/packages', { mode: 0o750, ...vcapGroup }),
    directory('var/vcap/sys', { mode: 0o750, ...vcapGroup }),
    directory('var/vcap/sys/log', { mode: 0o770, ...vcapGroup }),
    directory('var/vcap/sys/run', { mode: 0o770, ...vcapGroup }),
    directory('var/vcap/monit', { mode: 0o700 }),
    {
      kind: 'file',
      path: AGENT_BUNDLE_PATH,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: agent.size,
      source: { hostFile: agent.bundleFile },
    },
    textFile(AGENT_COMMAND_PATH, `#!/bin/sh\nexec /${NODE_PATH} /${AGENT_BUNDLE_PATH} "$@"\n`, {
      mode: 0o755,
    }),
    textFile(INIT_PATH, initScript(heartbeatSeconds), { mode: 0o755 }),
    symlink('var/vcap/bosh/bin/refit-init', `../../../../${INIT_PATH}`),
  ];
}
