import { parseArgs } from 'node:util';
import type { HmAlert } from '@refit/protocol';
import type { AlertSink } from './alert.ts';
import { DirectorEventsSink } from './director-events-sink.ts';
import { HttpsDirectorClient } from './director-client.ts';
import { Fleet } from './fleet.ts';
import { HmConfigError, loadHmConfig } from './hm-config.ts';
import { createHmLog, errorText, type HmLog } from './hm-log.ts';
import { Monitor } from './monitor.ts';
import { NatsListener } from './nats-listener.ts';
import { Resurrector } from './resurrector.ts';
import { WebhookSink } from './webhook-sink.ts';

const USAGE = `usage: refit-hm (--config FILE | --director-state-dir DIR) [--director-url URL] [--resurrector on|off]`;

/** Alerts into the monitor's own log, one JSON line each. */
const logSink = (log: HmLog): AlertSink => ({
  deliver: (alert: HmAlert) => log.warn('alert', { alert }),
});

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        'director-state-dir': { type: 'string' },
        'director-url': { type: 'string' },
        resurrector: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${errorText(error)}\n${USAGE}\n`);
    return 2;
  }
  if (args.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.config === undefined && args['director-state-dir'] === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (args.resurrector !== undefined && args.resurrector !== 'on' && args.resurrector !== 'off') {
    process.stderr.write(`--resurrector: expected on or off\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = await loadHmConfig({
      configFile: args.config ?? null,
      directorStateDir: args['director-state-dir'] ?? null,
      directorUrl: args['director-url'] ?? null,
      resurrector: args.resurrector === undefined ? null : args.resurrector === 'on',
    });
  } catch (error) {
    if (error instanceof HmConfigError) {
      process.stderr.write(`refit-hm: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const log = createHmLog({ file: config.logFile, level: config.logLevel });
  const stop = new AbortController();
  const onSignal = (name: string) => {
    log.info('stopping', { signal: name });
    stop.abort();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  const director = new HttpsDirectorClient({
    url: config.director.url,
    caPem: config.director.caPem,
    user: config.director.user,
    password: config.director.password,
    timeoutMs: config.director.requestTimeoutMs,
  });
  const sinks: AlertSink[] = [logSink(log)];
  const webhook = config.webhook === null ? null : new WebhookSink({ ...config.webhook, log });
  if (webhook) sinks.push(webhook);
  const events = config.directorEvents
    ? new DirectorEventsSink(director, log, { timeoutMs: config.director.requestTimeoutMs, queueSize: 1000 })
    : null;
  if (events) sinks.push(events);
  // The monitor and the resurrector refer to each other: the resurrector raises alerts through
  // the monitor, and gets the monitor's alerts as a sink.
  const fleet = new Fleet();
  let monitor: Monitor | null = null;
  const resurrector = config.resurrector.enabled
    ? new Resurrector({
        director,
        fleet,
        log,
        emit: (draft) => monitor?.raise(draft),
        settings: config.resurrector,
        signal: stop.signal,
      })
    : null;
  monitor = new Monitor({
    director,
    log,
    sinks: resurrector ? [...sinks, resurrector] : sinks,
    resurrector,
    intervals: config.intervals,
    fleet,
  });

  let listener: NatsListener;
  try {
    const current = monitor;
    listener = await NatsListener.start(
      { ...config.nats, log, onMessage: (kind, agentId, data) => current.handleMessage(kind, agentId, data) },
      stop.signal,
    );
  } catch (error) {
    log.error('cannot start', { error: errorText(error) });
    await Promise.all([webhook?.close(), events?.close()]);
    await log.close();
    return stop.signal.aborted ? 0 : 1;
  }
  log.info('hm ready', {
    director: config.director.url,
    nats: config.nats.url,
    resurrector: config.resurrector.enabled,
    webhook: config.webhook?.url ?? null,
    intervals: config.intervals,
  });
  await monitor.run(stop.signal);
  await listener.close();
  await resurrector?.idle();
  await Promise.all([webhook?.close(), events?.close()]);
  log.info('stopped', { counters: monitor.counters });
  await log.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `refit-hm: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
