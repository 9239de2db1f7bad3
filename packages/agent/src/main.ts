import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAgent } from './agent.ts';
import { systemReboot } from './actions/reboot.ts';
import { systemPowerOff } from './actions/shutdown.ts';
import { systemMounter } from './disks/mounter.ts';
import { errorMessage } from './errors.ts';
import { streamLog } from './log.ts';

const USAGE = `usage: refit-agent [--settings FILE] [--base-dir DIR] [--heartbeat-interval SECONDS]
                   [--supervision-cycle SECONDS] [--script-timeout SECONDS]
  --settings defaults to the first that exists of <base-dir>/var/vcap/bosh/config-drive/settings.json
  and <base-dir>/var/vcap/bosh/settings.json`;

async function defaultSettings(base: string): Promise<string | undefined> {
  for (const rel of ['var/vcap/bosh/config-drive/settings.json', 'var/vcap/bosh/settings.json']) {
    const file = join(base, rel);
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return undefined;
}

const log = streamLog((line) => process.stderr.write(line));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      settings: { type: 'string' },
      'base-dir': { type: 'string', default: '/' },
      'heartbeat-interval': { type: 'string', default: '30' },
      'supervision-cycle': { type: 'string', default: '5' },
      'script-timeout': { type: 'string', default: '3600' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const settingsFile = values.settings ?? (await defaultSettings(values['base-dir']));
  if (settingsFile === undefined) {
    console.error(`refit-agent: no settings file given or found\n${USAGE}`);
    return 2;
  }
  const seconds = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number of seconds`);
    return n * 1000;
  };
  const agent = await startAgent({
    settingsFile,
    baseDir: values['base-dir'],
    log,
    mounter: systemMounter,
    heartbeatMs: seconds('heartbeat-interval', values['heartbeat-interval']),
    supervisionCycleMs: seconds('supervision-cycle', values['supervision-cycle']),
    scriptTimeoutMs: seconds('script-timeout', values['script-timeout']),
    // Only a VM's own agent (base dir /) may reboot the machine it runs in.
    ...(values['base-dir'] === '/' ? { rebootMachine: systemReboot, powerOffMachine: systemPowerOff } : {}),
  });
  log.info(`refit-agent ${agent.ctx.settings.agentId} started (base ${values['base-dir']})`);
  const stop = (signal: string): void => {
    log.info(`${signal}: shutting down`);
    void agent.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.bus.closed();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log.error(`refit-agent: ${errorMessage(error)}`);
    process.exit(1);
  },
);
