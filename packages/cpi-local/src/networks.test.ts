import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpiErrorType, CpiNetworks } from '@refit/protocol';
import { CpiFailure } from './cpi-failure.ts';
import { checkLoopbackNetworks, isLoopbackHost } from './networks.ts';

const nets = (value: unknown) => CpiNetworks.parse(value);

describe('loopback-only networks', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.255.3.4', 'localhost', '::1', '[::1]'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of ['10.0.0.1', '128.0.0.1', '192.0.2.1', 'fd00::1', 'example.com', '1127.0.0.1', ''])
      assert.ok(!isLoopbackHost(h), h);
  });

  it('accepts 127.0.0.0/8 addresses', () => {
    checkLoopbackNetworks(nets({ a: { type: 'manual', ip: '127.0.1.5', gateway: '127.0.1.1' } }));
  });

  it('refuses other addresses, naming the network and the IP', () => {
    assert.throws(
      () =>
        checkLoopbackNetworks(
          nets({ ok: { type: 'manual', ip: '127.0.0.9' }, bad: { type: 'vip', ip: '192.0.2.7' } }),
        ),
      (error: unknown) =>
        error instanceof CpiFailure &&
        error.type === CpiErrorType.CloudError &&
        error.message.includes("'bad'") &&
        error.message.includes('192.0.2.7'),
    );
  });

  it('refuses a network without an IP and a non-loopback gateway', () => {
    assert.throws(() => checkLoopbackNetworks(nets({ d: { type: 'dynamic' } })), /network 'd'/);
    assert.throws(
      () => checkLoopbackNetworks(nets({ g: { type: 'manual', ip: '127.0.0.2', gateway: '10.0.0.1' } })),
      /gateway 10\.0\.0\.1/,
    );
    assert.throws(() => checkLoopbackNetworks(nets({ v6: { type: 'manual', ip: '::1' } })), /not in 127/);
  });
});
