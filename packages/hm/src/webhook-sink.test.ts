import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { HmAlert } from '@refit/protocol';
import { toAlert } from './alert.ts';
import { memoryLog, waitFor } from './test-support.ts';
import { WebhookSink } from './webhook-sink.ts';

const alert = (title: string) =>
  toAlert({ severity: 2, category: 'vm_health', title, source: 's', deployment: 'cf', createdAt: 1 });

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

describe('WebhookSink', () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.closeAllConnections();
    for (const server of servers) server.close();
  });

  it('POSTs each alert as JSON', async () => {
    const received: unknown[] = [];
    const { server, url } = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.end();
      });
    });
    servers.push(server);
    const sink = new WebhookSink({ url, timeoutMs: 2000, queueSize: 10, log: memoryLog() });
    sink.deliver(alert('one'));
    sink.deliver(alert('two'));
    await waitFor('two POSTs', () => received.length === 2);
    await sink.close();
    assert.deepEqual(
      received.map((r) => HmAlert.parse(r).title),
      ['one', 'two'],
    );
  });

  it('cuts off a webhook that hangs, never blocks the caller and bounds its queue', async () => {
    let requests = 0;
    const { server, url } = await listen(() => {
      requests += 1; // never answers
    });
    servers.push(server);
    const log = memoryLog();
    const sink = new WebhookSink({ url, timeoutMs: 200, queueSize: 2, log });
    for (let i = 0; i < 5; i += 1) sink.deliver(alert(`a${i}`)); // returns at once
    // At most 2 queued (+1 in flight): the rest were dropped, oldest first.
    assert.ok(sink.sender.dropped >= 2);
    assert.ok(sink.sender.pending <= 2);
    const kept = 5 - sink.sender.dropped;
    await waitFor('every kept alert tried and timed out', () => sink.sender.failed === kept);
    assert.equal(requests, kept);
    assert.ok(log.lines.some((l) => l.msg === 'webhook delivery failed'));
    await sink.close();
  });
});
