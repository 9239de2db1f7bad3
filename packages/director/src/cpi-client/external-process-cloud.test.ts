import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestCpi, type TestCpi } from '@refit/testkit/cpi/test-cpi-fixture.ts';
import { CpiCallFailed } from '../errors.ts';
import type { CpiCallOptions } from './cloud.ts';
import { CpiCallError, CpiFailureKind, CpiNotImplementedError } from './cpi-call-error.ts';
import { checkCpiInfo } from './cpi-info.ts';
import {
  CPI_PATH,
  ExternalProcessCloud,
  type ExternalProcessCloudOptions,
} from './external-process-cloud.ts';

const DIRECTOR_UUID = '7f0e5f52-6c1f-4b8e-9c52-2a1f7d3a9e10';

class MemoryLog {
  text = '';
  write(text: string): void {
    this.text += text;
  }
}

function callOptions(extra: Partial<CpiCallOptions> = {}): CpiCallOptions & { log: MemoryLog } {
  return { signal: AbortSignal.timeout(30_000), log: new MemoryLog(), ...extra } as CpiCallOptions & {
    log: MemoryLog;
  };
}

function isAlive(pid: number): boolean {
  // kill(0) would signal our own process group and always succeed.
  assert.ok(Number.isInteger(pid) && pid > 0, `not a pid: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('ExternalProcessCloud with the test CPI', () => {
  let root: string;
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'refit-cpi-client-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function setup(
    config: Parameters<typeof createTestCpi>[1] = {},
    options: Partial<ExternalProcessCloudOptions> = {},
  ): Promise<{ cpi: TestCpi; cloud: ExternalProcessCloud }> {
    count += 1;
    const cpi = await createTestCpi(join(root, `cpi-${count}`), config);
    const cloud = new ExternalProcessCloud({
      name: 'test',
      command: cpi.command,
      args: cpi.args,
      directorUuid: DIRECTOR_UUID,
      retry: { attempts: 3, backoffMs: 10 },
      ...options,
    });
    return { cpi, cloud };
  }

  it('sends one request with context and api_version, and returns the result', async () => {
    const { cpi, cloud } = await setup({ stemcell_formats: ['general-tar', 'warden-tar'] });
    const image = join(root, 'image');
    await writeFile(image, 'IMAGE BYTES');
    const options = callOptions({ stemcellApiVersion: 3 });
    const cid = await cloud.call('create_stemcell', [image, { name: 'x' }], options);
    assert.match(String(cid), /^stemcell-[0-9a-f-]{36}$/);
    assert.equal(await readFile(join(cpi.stateDir, 'stemcells', String(cid)), 'utf8'), 'IMAGE BYTES');
    const [call] = await cpi.calls();
    assert.equal(call?.method, 'create_stemcell');
    assert.deepEqual(call?.arguments, [image, { name: 'x' }]);
    assert.equal(call?.api_version, 2);
    assert.equal(call?.context['director_uuid'], DIRECTOR_UUID);
    assert.match(String(call?.context['request_id']), /^cpi-\d{6}$/);
    assert.deepEqual(call?.context['vm'], { stemcell: { api_version: 3 } });
    assert.deepEqual(await cloud.info(callOptions()), {
      api_version: 2,
      stemcell_formats: ['general-tar', 'warden-tar'],
    });
  });

  it('omits context.vm when the stemcell api_version is unknown', async () => {
    const { cpi, cloud } = await setup();
    await cloud.info(callOptions());
    const [call] = await cpi.calls();
    assert.equal(call?.context['vm'], undefined);
  });

  it('runs the CPI with a cleared environment', async () => {
    process.env['REFIT_SHOULD_NOT_LEAK'] = 'leak';
    try {
      const { cpi, cloud } = await setup({}, { tmpDir: '/tmp/refit-cpi-tmp', home: '/home/cpi' });
      await cloud.info(callOptions());
      const [call] = await cpi.calls();
      assert.equal(call?.env['REFIT_SHOULD_NOT_LEAK'], undefined);
      assert.equal(call?.env['PATH'], CPI_PATH);
      assert.equal(call?.env['TMPDIR'], '/tmp/refit-cpi-tmp');
      assert.equal(call?.env['HOME'], '/home/cpi');
    } finally {
      delete process.env['REFIT_SHOULD_NOT_LEAK'];
    }
  });

  it('records request, stderr, the CPI log and the response in the cpi log', async () => {
    const { cloud } = await setup();
    const options = callOptions();
    await cloud.call('has_vm', ['vm-1'], options);
    const lines = options.log.text.split('\n');
    assert.match(
      lines[0] ?? '',
      /^\[cpi-\d{6}\] request: \{"method":"has_vm","arguments":\["vm-1"\].* with command: .*test-cpi --config /,
    );
    assert.ok(
      lines.includes(`test-cpi: has_vm (request ${/cpi-\d{6}/.exec(lines[0] ?? '')?.[0]})`),
      options.log.text,
    );
    assert.ok(lines.includes('test-cpi handled has_vm'), options.log.text);
    assert.match(
      options.log.text,
      /\] response: \{"result":false,"error":null\} \(took \d+\.\d{3} s, exit status 0\)/,
    );
  });

  it('redacts secret-looking keys at any depth in the logged request, not in the sent one', async () => {
    const { cpi, cloud } = await setup();
    const env = {
      bosh: {
        password: 'pw-sekrit-1',
        group: 'g',
        mbus: { cert: { private_key: 'pk-sekrit-2', ca: 'CA' } },
        blobstores: [{ options: { secret_access_key: 'sak-sekrit-3', endpoint: 'e' } }],
      },
      api_token: 'tok-sekrit-4',
      ssh_key: 'ssh-sekrit-5',
    };
    const options = callOptions();
    await assert.rejects(cloud.call('create_vm', ['agent', 'stemcell-missing', {}, {}, [], env], options));
    for (const secret of ['pw-sekrit-1', 'pk-sekrit-2', 'sak-sekrit-3', 'tok-sekrit-4', 'ssh-sekrit-5'])
      assert.ok(!options.log.text.includes(secret), `${secret} leaked`);
    assert.ok(options.log.text.includes('"password":"<redacted>"'));
    assert.ok(options.log.text.includes('"ca":"CA"') && options.log.text.includes('"endpoint":"e"'));
    const [call] = await cpi.calls();
    assert.deepEqual(call?.arguments[5], env);
  });

  it('sends CPI config context properties, redacted in the log', async () => {
    const { cpi, cloud } = await setup({}, { contextProperties: { region: 'region-zq9', api_key: 'K-123' } });
    const options = callOptions();
    await cloud.info(options);
    const [call] = await cpi.calls();
    assert.equal(call?.context['region'], 'region-zq9');
    assert.equal(call?.context['api_key'], 'K-123');
    assert.ok(!options.log.text.includes('K-123'));
    assert.ok(!options.log.text.includes('region-zq9'));
  });

  it('a per-call timeout overrides the cloud default', async () => {
    const { cloud } = await setup({ faults: { has_vm: 'hang' } }, { timeoutMs: 600_000 });
    const error = await cloud.call('has_vm', ['x'], callOptions({ timeoutMs: 800 })).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.Timeout);
    assert.match(error.message, /timed out after 0\.8 s/);
  });

  it('a crash (no stdout, non-zero exit) is an invalid response naming the method', async () => {
    const { cloud } = await setup({ faults: { delete_vm: 'crash' } });
    const options = callOptions();
    const error = await cloud.call('delete_vm', ['vm-1'], options).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.InvalidResponse);
    assert.match(error.message, /'delete_vm' CPI method/);
    assert.match(error.message, /no output \(exit status 1\)/);
    assert.match(options.log.text, /test-cpi crashed on purpose/);
  });

  it('garbage on stdout is an invalid response showing its first bytes', async () => {
    const { cloud } = await setup({ faults: { create_stemcell: 'garbage' } });
    const error = await cloud
      .call('create_stemcell', ['/nonexistent', {}], callOptions())
      .catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.ok(error instanceof CpiCallFailed);
    assert.equal(error.code, 100200);
    assert.equal(error.kind, CpiFailureKind.InvalidResponse);
    assert.match(error.message, /ParserError/);
    assert.match(error.message, /stdout began with "<html>this is not a CPI response/);
    assert.match(error.message, /'create_stemcell' CPI method/);
  });

  it('a response with mistyped fields is refused (log must be a string)', async () => {
    const { cloud } = await setup({ faults: { has_vm: 'bad_schema' } });
    const error = await cloud.call('has_vm', ['vm-1'], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.match(error.message, /SchemaValidationError: log:/);
  });

  it('a hanging CPI is killed at its timeout, with the processes it started', async () => {
    // A shell CPI, not the test CPI: on a loaded 2-core machine the test CPI (a Node process)
    // can take longer than this 1.5 s timeout to start, and would die before its grandchild.
    const script = join(root, 'hanging-cpi');
    await writeFile(
      script,
      '#!/bin/sh\ncat >/dev/null\nsleep 3600 &\necho $! > "$0.pid.tmp" && mv "$0.pid.tmp" "$0.pid"\nwait\n',
    );
    await chmod(script, 0o755);
    const { cloud } = await setup({}, { command: script, args: [], timeoutMs: 1500 });
    const options = callOptions();
    const error = await cloud.call('create_vm', ['a', 's', {}, {}, [], {}], options).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.Timeout);
    assert.match(error.message, /timed out after 1\.5 s in 'create_vm' CPI method/);
    const pid = Number(await readFile(`${script}.pid`, 'utf8'));
    assert.ok(await waitUntil(() => !isAlive(pid), 5000), `grandchild ${pid} still alive`);
  });

  it('aborting the signal kills the CPI and rejects with the reason', async () => {
    const { cpi, cloud } = await setup({ faults: { create_vm: 'hang' } });
    const controller = new AbortController();
    const pidFile = join(cpi.stateDir, 'hang-create_vm.pid');
    const pending = cloud.call(
      'create_vm',
      ['a', 's', {}, {}, [], {}],
      callOptions({ signal: controller.signal }),
    );
    assert.ok(await waitUntil(() => existsSync(pidFile), 10_000), 'the CPI never started hanging');
    controller.abort(new Error('task cancelled'));
    await assert.rejects(pending, /task cancelled/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    assert.ok(await waitUntil(() => !isAlive(pid), 5000), `grandchild ${pid} still alive`);
  });

  it('a CPI error carries type, message and ok_to_retry, without retrying', async () => {
    const { cpi, cloud } = await setup({ faults: { delete_stemcell: 'cloud_error' } });
    const error = await cloud.call('delete_stemcell', ['stemcell-1'], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.CpiError);
    assert.equal(error.cpiErrorType, 'Bosh::Clouds::CloudError');
    assert.equal(error.cpiMessage, 'injected failure in delete_stemcell');
    assert.equal(error.okToRetry, false);
    assert.equal(error.notImplemented, false);
    assert.match(
      error.message,
      /^CPI error 'Bosh::Clouds::CloudError' with message 'injected failure in delete_stemcell' in 'delete_stemcell' CPI method \(CPI request ID: 'cpi-\d{6}'\)$/,
    );
    assert.equal((await cpi.calls()).length, 1);
  });

  it('VMNotFound comes back as its own type', async () => {
    const { cloud } = await setup();
    const error = await cloud.call('delete_vm', ['vm-gone'], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.cpiErrorType, 'Bosh::Clouds::VMNotFound');
  });

  it('NotImplemented is distinguishable', async () => {
    const { cloud } = await setup();
    const error = await cloud.call('snapshot_disk', ['disk-1', {}], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiNotImplementedError);
    assert.equal(error.notImplemented, true);
  });

  it('ok_to_retry errors are retried, then succeed', async () => {
    const { cpi, cloud } = await setup({ faults: { has_vm: { fault: 'retryable_error', times: 2 } } });
    const options = callOptions();
    assert.equal(await cloud.call('has_vm', ['vm-1'], options), false);
    assert.equal((await cpi.calls()).length, 3);
    assert.match(options.log.text, /attempt 2 of 3/);
    assert.match(options.log.text, /attempt 3 of 3/);
  });

  it('ok_to_retry errors stop after the bounded number of attempts', async () => {
    const { cpi, cloud } = await setup({ faults: { has_vm: 'retryable_error' } });
    const error = await cloud.call('has_vm', ['vm-1'], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.okToRetry, true);
    assert.equal((await cpi.calls()).length, 3);
  });

  it('an executable that cannot run is a spawn failure', async () => {
    const { cloud } = await setup({}, { command: join(root, 'does-not-exist') });
    const error = await cloud.info(callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.SpawnFailed);
  });

  it('an unknown error type is reported as such', async () => {
    const script = join(root, 'unknown-error-cpi');
    await writeFile(
      script,
      '#!/bin/sh\ncat >/dev/null\necho \'{"result":null,"error":{"type":"Weird","message":"m","ok_to_retry":false},"log":""}\'\n',
    );
    await chmod(script, 0o755);
    const { cloud } = await setup({}, { command: script, args: [] });
    const error = await cloud.call('has_vm', ['x'], callOptions()).catch((e: unknown) => e);
    assert.ok(error instanceof CpiCallError);
    assert.equal(error.kind, CpiFailureKind.UnknownCpiError);
    assert.match(error.message, /^Unknown CPI error 'Weird'/);
  });

  it('a CPI that leaves a process holding its stdout open does not hang the call', async () => {
    const script = join(root, 'daemonizing-cpi');
    await writeFile(
      script,
      '#!/bin/sh\ncat >/dev/null\necho \'{"result":true,"error":null,"log":""}\'\nsleep 30 &\necho $! > "$0.pid"\n',
    );
    await chmod(script, 0o755);
    const { cloud } = await setup({}, { command: script, args: [] });
    const options = callOptions();
    assert.equal(await cloud.call('has_vm', ['x'], options), true);
    assert.match(options.log.text, /kept its output open/);
    const pid = Number(await readFile(`${script}.pid`, 'utf8'));
    // kill(0) would SIGKILL our own process group.
    assert.ok(Number.isInteger(pid) && pid > 0, `not a pid: ${pid}`);
    process.kill(pid, 'SIGKILL');
  });
});

describe('checkCpiInfo', () => {
  it('refuses a CPI without api_version or with one below 2', () => {
    assert.throws(() => checkCpiInfo({ stemcell_formats: [] }), /CPI must report api_version via info/);
    assert.throws(
      () => checkCpiInfo({ api_version: 1, stemcell_formats: [] }, 'local'),
      /CPI 'local' must report api_version via info: it reported 1/,
    );
    assert.equal(checkCpiInfo({ api_version: 2, stemcell_formats: [] }), 2);
  });

  it('refuses the test CPI configured without api_version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-cpi-info-'));
    try {
      const cpi = await createTestCpi(dir, { api_version: null });
      const cloud = new ExternalProcessCloud({
        name: '',
        command: cpi.command,
        args: cpi.args,
        directorUuid: DIRECTOR_UUID,
      });
      const info = await cloud.info(callOptions());
      const error = (() => {
        try {
          checkCpiInfo(info);
          return null;
        } catch (e) {
          return e;
        }
      })();
      assert.ok(error instanceof CpiCallError);
      assert.equal(error.kind, CpiFailureKind.Unsupported);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
