import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpiErrorType, CpiMethod, CpiResponse } from '@refit/protocol';
import { parseConfig } from './config.ts';
import { handleRequest } from './handle-request.ts';
import { cpiMethodNames, notSupported } from './methods/index.ts';

const config = await parseConfig(
  'state_dir: /nonexistent/refit-cpi-test\nagent: { mbus: "nats://127.0.0.1:4222" }',
  't',
);
const call = async (input: unknown) =>
  CpiResponse.parse(
    await handleRequest(
      config,
      typeof input === 'string' ? input : JSON.stringify(input),
      AbortSignal.timeout(5000),
    ),
  );

describe('one CPI request', () => {
  it('answers info with api_version 2 and its stemcell format', async () => {
    const response = await call({ method: 'info', arguments: [], context: {} });
    assert.deepEqual(response.result, { api_version: 2, stemcell_formats: ['refit-local-tgz'] });
    assert.equal(response.error, null);
    assert.equal(typeof response.log, 'string');
  });

  it('answers NotImplemented for snapshots and unknown methods, NotSupported for resizes', async () => {
    for (const method of ['snapshot_disk', 'delete_snapshot', 'frobnicate']) {
      const r = await call({ method, arguments: [], context: {} });
      assert.equal(r.error?.type, CpiErrorType.NotImplemented, method);
      assert.equal(r.result, null);
    }
    assert.equal(
      (await call({ method: 'resize_disk', arguments: [], context: {} })).error?.type,
      CpiErrorType.NotSupported,
    );
  });

  it('answers a CpiError for input that is not a request, and for bad arguments', async () => {
    assert.equal((await call('not json')).error?.type, CpiErrorType.CpiError);
    assert.equal((await call({ arguments: [] })).error?.type, CpiErrorType.CpiError);
    const bad = await call({ method: 'create_disk', arguments: ['ten'], context: {} });
    assert.equal(bad.error?.type, CpiErrorType.CpiError);
    assert.match(bad.error?.message ?? '', /create_disk/);
  });

  it('never treats a foreign CID as a path: unknown VMs and disks are not found', async () => {
    const r = await call({ method: 'delete_vm', arguments: ['../../etc'], context: {} });
    assert.equal(r.error?.type, CpiErrorType.VMNotFound);
    const d = await call({ method: 'has_disk', arguments: ['/etc/passwd'], context: {} });
    assert.equal(d.result, false);
  });

  it('reports a broken config as a CloudError response', async () => {
    const response = CpiResponse.parse(
      await handleRequest(
        new Error('cpi.yml: state_dir: required'),
        '{"method":"info","arguments":[],"context":{}}',
        AbortSignal.timeout(1000),
      ),
    );
    assert.equal(response.error?.type, CpiErrorType.CloudError);
    assert.match(response.error?.message ?? '', /state_dir/);
  });

  it('implements every CPI v2 method but snapshots and disk resizes', () => {
    const left = CpiMethod.options.filter((m) => !cpiMethodNames.includes(m) && !notSupported.has(m));
    assert.deepEqual(left.sort(), ['delete_snapshot', 'snapshot_disk']);
  });
});
