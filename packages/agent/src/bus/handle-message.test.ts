import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLog } from '../log.ts';
import type { Outcome } from '../dispatcher.ts';
import { encodeOutcome, handleMessage } from './handle-message.ts';

const enc = (s: string): Uint8Array => Buffer.from(s);
const echo = (method: string, args: readonly unknown[]): Promise<Outcome> =>
  Promise.resolve(method === 'ping' ? { value: 'pong' } : { value: args });

describe('handleMessage', () => {
  it('answers on reply_to with the value envelope', async () => {
    const reply = await handleMessage(
      enc('{"protocol":3,"method":"ping","arguments":[],"reply_to":"director.x.a.1"}'),
      echo,
      silentLog,
    );
    assert.deepEqual(reply, { replyTo: 'director.x.a.1', body: '{"value":"pong"}' });
  });

  it('answers "unknown message" to a message that is not JSON but carries a reply_to', async () => {
    const reply = await handleMessage(
      enc('{"method":"ping", "reply_to":"director.x.a.2", oops'),
      echo,
      silentLog,
    );
    assert.deepEqual(reply, {
      replyTo: 'director.x.a.2',
      body: '{"exception":{"message":"unknown message ping"}}',
    });
  });

  it('answers "unknown message" to JSON that is not an envelope', async () => {
    const reply = await handleMessage(enc('{"reply_to":"r.1","arguments":"no"}'), echo, silentLog);
    assert.equal(reply?.replyTo, 'r.1');
    assert.match(JSON.parse(reply?.body ?? '{}').exception.message as string, /^unknown message/);
  });

  it('drops what has no reply_to at all', async () => {
    assert.equal(await handleMessage(enc('garbage'), echo, silentLog), null);
  });

  it('drops a request whose reply_to is not a subject it may publish to', async () => {
    for (const bad of ['bad subject', 'director.*', 'a..b', 'director.>']) {
      const payload = JSON.stringify({ method: 'ping', arguments: [], reply_to: bad });
      assert.equal(await handleMessage(enc(payload), echo, silentLog), null, bad);
    }
  });

  it('keeps replies under 1 MiB', () => {
    const big = encodeOutcome({ value: 'x'.repeat(2 * 1024 * 1024) });
    assert.match(big, /Response exceeded maximum allowed length/);
    const long = encodeOutcome({ exception: 'e'.repeat(3 * 1024 * 1024) });
    assert.ok(Buffer.byteLength(long) <= 1024 * 1024);
    assert.match(long, /^\{"exception":\{"message":"eee/);
  });
});
