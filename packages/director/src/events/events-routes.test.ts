import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventItem } from '@refit/protocol';
import type { HttpMethod, Route, RouteRequest } from '../api/route.ts';
import { coreMigration } from '../db/core-migration.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from './db-event-recorder.ts';
import { eventRoutes } from './events-routes.ts';

function request(method: HttpMethod, body: string, query = ''): RouteRequest {
  return {
    method,
    path: '/events',
    params: {},
    query: new URLSearchParams(query),
    headers: { 'content-type': 'application/json' },
    user: 'hm-client',
    body: Readable.from([Buffer.from(body)]),
    signal: AbortSignal.timeout(10_000),
  };
}

for (const backend of testBackends()) {
  describe(`POST /events on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let routes: Route[];
    const route = (method: HttpMethod) => {
      const found = routes.find((r) => r.method === method && r.path === '/events');
      assert.ok(found);
      return found;
    };
    const list = async (query = '') => {
      const reply = await route('GET').handle(request('GET', '', query));
      assert.equal(reply.kind, 'json');
      return (reply as { body: unknown[] }).body.map((e) => EventItem.parse(e));
    };
    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration] });
      routes = eventRoutes(new DbEventRecorder(t.db, () => 1_700_000_000_000));
    });
    afterEach(() => t.cleanup());

    it("records the health monitor's alert body as an event of the authenticated user", async () => {
      const alert = {
        timestamp: '1700000123',
        action: 'create',
        object_type: 'alert',
        object_name: 'f0e1d2c3',
        deployment: 'hmdep',
        instance: 'web/5efd2cb8',
        context: { message: 'agent-1 has timed out. Alert @ 2023-11-14T22:15:23.000Z, severity 2: ' },
      };
      const reply = await route('POST').handle(request('POST', JSON.stringify(alert)));
      assert.deepEqual(reply, { kind: 'empty', status: 200 });
      const [event, ...rest] = await list('object_type=alert');
      assert.equal(rest.length, 0);
      assert.deepEqual(
        { ...event, id: 'x' },
        {
          id: 'x',
          parent_id: null,
          timestamp: 1_700_000_123,
          user: 'hm-client',
          action: 'create',
          object_type: 'alert',
          object_name: 'f0e1d2c3',
          task: null,
          deployment: 'hmdep',
          instance: 'web/5efd2cb8',
          context: alert.context,
          error: null,
        },
      );
    });

    it('stamps now when no timestamp is given', async () => {
      const body = { action: 'create', object_type: 'alert', object_name: 'a1' };
      await route('POST').handle(request('POST', JSON.stringify(body)));
      const [event] = await list();
      assert.equal(event?.timestamp, 1_700_000_000);
      assert.deepEqual(event?.context, {});
    });

    it('refuses bodies BOSH refuses: missing required fields, a context that is not a hash, bad JSON', async () => {
      const bad = [
        JSON.stringify({ object_type: 'alert', object_name: 'a' }),
        JSON.stringify({ action: 'create', object_type: 'alert' }),
        JSON.stringify({ action: 'create', object_type: 'alert', object_name: 'a', context: 'text' }),
        JSON.stringify({ action: 'create', object_type: 'alert', object_name: 'a', timestamp: 'yesterday' }),
        '{not json',
      ];
      for (const body of bad) {
        await assert.rejects(
          route('POST').handle(request('POST', body)),
          (error: Error & { code?: number }) => {
            assert.equal(error.code, 40000, body);
            return true;
          },
        );
      }
      assert.deepEqual(await list(), []);
    });
  });
}
