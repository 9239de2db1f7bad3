import { AgentRequest } from '@refit/protocol';
import type { Outcome } from '../dispatcher.ts';
import type { Log } from '../log.ts';

/** BOSH's cap on one reply (reference §3.1). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface Reply {
  readonly replyTo: string;
  readonly body: string;
}

/** Serialises an outcome as BOSH's envelope, keeping it under 1 MiB. */
export function encodeOutcome(outcome: Outcome, max = MAX_RESPONSE_BYTES): string {
  if ('value' in outcome) {
    const body = JSON.stringify({ value: outcome.value ?? null });
    if (Buffer.byteLength(body) <= max) return body;
    return encodeOutcome(
      { exception: `Response exceeded maximum allowed length (${Buffer.byteLength(body)} bytes)` },
      max,
    );
  }
  let message = outcome.exception;
  let body = JSON.stringify({ exception: { message } });
  while (Buffer.byteLength(body) > max) {
    message = message.slice(0, Math.floor(message.length * 0.9));
    body = JSON.stringify({ exception: { message } });
  }
  return body;
}

/**
 * A NATS subject a reply may go to: dot-separated non-empty tokens, no blanks, no wildcards.
 * Publishing to anything else makes nats-server drop the agent's connection.
 */
export function isPublishableSubject(subject: string): boolean {
  return subject.length <= 1024 && subject.split('.').every((token) => /^[^\s*>]+$/.test(token));
}

const grab = (text: string, key: string): string | undefined =>
  new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(text)?.[1];

/**
 * One message from `agent.<id>` to its reply. A request that is not JSON or not an envelope
 * still gets BOSH's `unknown message` exception when its reply_to can be found; without one it
 * is logged and dropped. Never throws: the agent keeps serving whatever arrives.
 */
export async function handleMessage(
  data: Uint8Array,
  dispatch: (method: string, args: readonly unknown[]) => Promise<Outcome>,
  log: Log,
): Promise<Reply | null> {
  const text = Buffer.from(data).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const request = AgentRequest.safeParse(json);
  if (!request.success) {
    const replyTo =
      typeof json === 'object' && json !== null && 'reply_to' in json && typeof json.reply_to === 'string'
        ? json.reply_to
        : grab(text, 'reply_to');
    const method =
      typeof json === 'object' && json !== null && 'method' in json && typeof json.method === 'string'
        ? json.method
        : grab(text, 'method');
    if (replyTo === undefined || !isPublishableSubject(replyTo)) {
      log.warn(`dropping a message without reply_to: ${text.slice(0, 200)}`);
      return null;
    }
    log.warn(`malformed request: ${text.slice(0, 200)}`);
    const what = method === undefined ? '(request is not a valid JSON envelope)' : method;
    return { replyTo, body: encodeOutcome({ exception: `unknown message ${what}` }) };
  }
  const { method, arguments: args, reply_to: replyTo } = request.data;
  if (!isPublishableSubject(replyTo)) {
    log.warn(
      `dropping ${method}: reply_to '${replyTo.slice(0, 200)}' is not a subject the agent may publish to`,
    );
    return null;
  }
  let outcome: Outcome;
  try {
    outcome = await dispatch(method, args);
  } catch (error) {
    outcome = {
      exception: `Action Failed ${method}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return { replyTo, body: encodeOutcome(outcome) };
}
