import type { HmAlert, HmWebhookPayload } from '@refit/protocol';
import type { AlertSink } from './alert.ts';
import { BoundedSender } from './bounded-sender.ts';
import { errorText, type HmLog } from './hm-log.ts';

export interface WebhookSinkOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly queueSize: number;
  readonly log: HmLog;
}

/** POSTs each alert as JSON to a webhook; bounded in time per POST and in queue length. */
export class WebhookSink implements AlertSink {
  readonly sender: BoundedSender<HmAlert>;

  constructor(options: WebhookSinkOptions) {
    const { url, log } = options;
    this.sender = new BoundedSender<HmAlert>({
      capacity: options.queueSize,
      timeoutMs: options.timeoutMs,
      async send(alert, signal) {
        const payload: HmWebhookPayload = alert;
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal,
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      },
      onError: (error, alert) =>
        log.warn('webhook delivery failed', { alert_id: alert.id, error: errorText(error) }),
      onDrop: (alert) => log.warn('webhook queue full: dropped the oldest alert', { alert_id: alert.id }),
    });
  }

  deliver(alert: HmAlert): void {
    this.sender.push(alert);
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
