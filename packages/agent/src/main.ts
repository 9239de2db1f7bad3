import { parseArgs } from 'node:util';
import { startAgent } from './agent.ts';
import { systemMounter } from './disks/mounter.ts';
import { errorMessage } from './errors.ts';
import { streamLog } from './log.ts';

const USAGE = `usage: refit-agent --settings FILE [--base-dir DIR] [--heartbeat-interval SECONDS]
                   [--supervision-cycle SECONDS] [--script-timeout SECONDS]`;

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
  if (values.settings === undefined) {
    console.error(USAGE);
    return 2;
  }
  const seconds = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number of seconds`);
    return n * 1000;
  };
  const agent = await startAgent({
    settingsFile: values.settings,
    baseDir: values['base-dir'],
    log,
    mounter: systemMounter,
    heartbeatMs: seconds('heartbeat-interval', values['heartbeat-interval']),
    supervisionCycleMs: seconds('supervision-cycle', values['supervision-cycle']),
    scriptTimeoutMs: seconds('script-timeout', values['script-timeout']),
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
