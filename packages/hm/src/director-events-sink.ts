import type { HmAlert, HmEventBody } from '@refit/protocol';
import type { AlertSink } from './alert.ts';
import { BoundedSender } from './bounded-sender.ts';
import type { DirectorApi } from './director-client.ts';
import { errorText, type HmLog } from './hm-log.ts';

/** After the director said it has no `POST /events`, ask again this much later. */
const REPROBE_MS = 10 * 60 * 1000;

/** BOSH's event_logger body for one alert. */
export function eventBody(alert: HmAlert): HmEventBody {
  const instance =
    alert.job !== undefined &&
    alert.job !== null &&
    alert.instance_id !== undefined &&
    alert.instance_id !== null
      ? `${alert.job}/${alert.instance_id}`
      : null;
  return {
    timestamp: String(alert.created_at),
    action: 'create',
    object_type: 'alert',
    object_name: alert.id,
    deployment: alert.deployment,
    instance,
    context: {
      message: `${alert.title}. Alert @ ${new Date(alert.created_at * 1000).toISOString()}, severity ${alert.severity}: ${alert.summary}`,
    },
  };
}

/**
 * Records alerts as director events (`POST /events`, as BOSH's event_logger plugin) when the
 * director offers that route; otherwise logs once that it is not available and drops them.
 */
export class DirectorEventsSink implements AlertSink {
  readonly sender: BoundedSender<HmAlert>;
  #unavailableUntil = 0;

  constructor(
    director: DirectorApi,
    log: HmLog,
    options: { timeoutMs: number; queueSize: number; now?: () => number },
  ) {
    const now = options.now ?? Date.now;
    this.sender = new BoundedSender<HmAlert>({
      capacity: options.queueSize,
      timeoutMs: options.timeoutMs,
      send: async (alert, signal) => {
        if (now() < this.#unavailableUntil) return;
        const recorded = await director.createEvent(eventBody(alert), signal);
        if (!recorded) {
          this.#unavailableUntil = now() + REPROBE_MS;
          log.warn('the director has no POST /events: alerts are not recorded as director events', {
            retry_in_s: REPROBE_MS / 1000,
          });
        }
      },
      onError: (error, alert) =>
        log.warn('director event failed', { alert_id: alert.id, error: errorText(error) }),
      onDrop: () => {},
    });
  }

  deliver(alert: HmAlert): void {
    this.sender.push(alert);
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
