import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMbus } from './settings.ts';

describe('parseMbus', () => {
  it('splits the credentials from the server', () => {
    assert.deepEqual(parseMbus('nats://agent:p%40ss@127.0.0.1:4222'), {
      servers: 'nats://127.0.0.1:4222',
      user: 'agent',
      pass: 'p@ss',
    });
  });

  it('refuses an mbus without credentials: never an open server', () => {
    assert.throws(() => parseMbus('nats://127.0.0.1:4222'), /carries no user:password/);
    assert.throws(() => parseMbus('nats://user@127.0.0.1:4222'), /carries no user:password/);
  });

  it('refuses other schemes and non-URLs', () => {
    assert.throws(() => parseMbus('http://u:p@127.0.0.1'), /is not nats:\/\//);
    assert.throws(() => parseMbus('127.0.0.1:4222'), /not a URL|is not nats/);
  });
});
