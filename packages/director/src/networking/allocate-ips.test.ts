import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCloudConfig } from '../manifests/compile-cloud-config.ts';
import { findFreeIp } from './allocate-ips.ts';
import { formatIpv4, parseCidr, parseIpOrRange, parseIpv4 } from './ipv4.ts';

describe('ipv4', () => {
  it('parses and formats addresses, CIDRs and ranges', () => {
    assert.equal(parseIpv4('127.1.2.3'), 0x7f010203);
    assert.equal(formatIpv4(0x7f010203), '127.1.2.3');
    for (const bad of ['127.1.2', '127.1.2.256', '127.1.2.x', '::1', '127.1.2.3.4'])
      assert.equal(parseIpv4(bad), null, bad);
    assert.deepEqual(parseCidr('127.1.0.77/24'), {
      network: 0x7f010000,
      prefix: 24,
      broadcast: 0x7f0100ff,
      netmask: 0xffffff00,
    });
    assert.equal(parseCidr('127.1.0.0/33'), null);
    assert.deepEqual(parseIpOrRange('127.1.0.5 - 127.1.0.9'), { first: 0x7f010005, last: 0x7f010009 });
    assert.equal(parseIpOrRange('127.1.0.9-127.1.0.5'), null);
  });
});

describe('findFreeIp', () => {
  const cloud = compileCloudConfig({
    azs: [{ name: 'z1' }, { name: 'z2' }],
    networks: [
      {
        name: 'n',
        subnets: [
          {
            range: '127.5.0.0/29',
            gateway: '127.5.0.1',
            reserved: ['127.5.0.2'],
            static: ['127.5.0.3'],
            az: 'z1',
          },
          { range: '127.6.0.0/29', gateway: '127.6.0.6', azs: ['z1', 'z2'] },
        ],
      },
    ],
  });
  const net = cloud.networks.get('n');
  assert.ok(net?.type === 'manual');
  const ip = (taken: string[], az: string | null) => {
    const found = findFreeIp(net.subnets, az, new Set(taken.map((t) => parseIpv4(t) ?? -1)));
    return found === null ? null : formatIpv4(found.ip);
  };

  it('skips the network address, gateway, reserved and static addresses', () => {
    assert.equal(ip([], 'z1'), '127.5.0.4');
  });

  it('skips taken addresses and moves to the next subnet of the AZ, never the broadcast', () => {
    assert.equal(ip(['127.5.0.4', '127.5.0.5', '127.5.0.6'], 'z1'), '127.6.0.1');
    assert.equal(ip([], 'z2'), '127.6.0.1');
  });

  it('null when the AZ is full or has no subnet', () => {
    const all = ['127.6.0.1', '127.6.0.2', '127.6.0.3', '127.6.0.4', '127.6.0.5'];
    assert.equal(ip(all, 'z2'), null);
    assert.equal(ip([], null), null);
  });
});
