// A small but real external CPI (reference §2.1) for director tests: one JSON request on stdin,
// one JSON response on stdout, state kept as files under the config's state_dir. Run through
// packages/testkit/bin/test-cpi --config FILE. Faults per method come from the config.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { CpiErrorType, CpiRequest, type CpiError } from '@refit/protocol';
import { TestCpiConfig, type TestCpiFaultKind, type TestCpiSettings as Config } from './test-cpi-config.ts';

class CpiFailure extends Error {
  readonly type: string;
  readonly okToRetry: boolean;
  constructor(type: string, message: string, okToRetry = false) {
    super(message);
    this.type = type;
    this.okToRetry = okToRetry;
  }
}

type Handler = (args: unknown[], config: Config) => Promise<unknown>;

const stemcellPath = (config: Config, cid: string) => join(config.state_dir, 'stemcells', safeName(cid));
const vmPath = (config: Config, cid: string) => join(config.state_dir, 'vms', `${safeName(cid)}.json`);

function safeName(cid: unknown): string {
  if (typeof cid !== 'string' || !/^[A-Za-z0-9._-]+$/.test(cid) || cid.startsWith('.')) {
    throw new CpiFailure(CpiErrorType.CloudError, `invalid cid ${JSON.stringify(cid)}`);
  }
  return cid;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const handlers: Record<string, Handler> = {
  info: (_args, config) =>
    Promise.resolve({
      ...(config.api_version === null ? {} : { api_version: config.api_version }),
      stemcell_formats: config.stemcell_formats,
    }),

  async create_stemcell([imagePath], config) {
    if (typeof imagePath !== 'string')
      throw new CpiFailure(CpiErrorType.CloudError, 'image_path must be a string');
    const cid = `stemcell-${randomUUID()}`;
    await mkdir(join(config.state_dir, 'stemcells'), { recursive: true });
    try {
      await copyFile(imagePath, stemcellPath(config, cid));
    } catch (error) {
      throw new CpiFailure(
        CpiErrorType.CloudError,
        `cannot read stemcell image '${imagePath}': ${String(error)}`,
      );
    }
    return cid;
  },

  async delete_stemcell([cid], config) {
    await rm(stemcellPath(config, safeName(cid)), { force: true });
    return null;
  },

  async create_vm([agentId, stemcellCid, cloudProperties, networks], config) {
    if (!(await exists(stemcellPath(config, safeName(stemcellCid))))) {
      throw new CpiFailure(CpiErrorType.CloudError, `stemcell '${String(stemcellCid)}' not found`);
    }
    const cid = `vm-${randomUUID()}`;
    await mkdir(join(config.state_dir, 'vms'), { recursive: true });
    const record = {
      agent_id: agentId,
      stemcell_cid: stemcellCid,
      cloud_properties: cloudProperties,
      networks,
    };
    await writeFile(vmPath(config, cid), JSON.stringify(record));
    return [cid, networks ?? {}];
  },

  async delete_vm([cid], config) {
    const path = vmPath(config, safeName(cid));
    if (!(await exists(path))) throw new CpiFailure(CpiErrorType.VMNotFound, `VM '${String(cid)}' not found`);
    await rm(path);
    return null;
  },

  async has_vm([cid], config) {
    return exists(vmPath(config, safeName(cid)));
  },
};

/** Counts calls per method in the state dir so a fault can apply to the first N calls only. */
async function activeFault(config: Config, method: string): Promise<TestCpiFaultKind | null> {
  const fault = config.faults[method];
  if (fault === undefined) return null;
  if (typeof fault === 'string') return fault;
  if (fault.times === undefined) return fault.fault;
  const seen = await callNumber(config, method);
  return seen < fault.times ? fault.fault : null;
}

/**
 * This call's number (from 0) among the calls of `method`. The director may run several CPI
 * processes at once: each claims the first free number by creating its marker file exclusively,
 * so no two calls get the same number (a shared counts file read and rewritten could be seen
 * half-written, or lose a count).
 */
async function callNumber(config: Config, method: string): Promise<number> {
  const dir = join(config.state_dir, 'fault-calls');
  await mkdir(dir, { recursive: true });
  for (let n = 0; ; n += 1) {
    try {
      await writeFile(join(dir, `${safeName(method)}-${n}`), '', { flag: 'wx' });
      return n;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function hang(config: Config, method: string): Promise<never> {
  const child = spawn('sleep', ['3600'], { stdio: 'ignore' });
  // Written aside and renamed, so a reader never sees the file empty.
  const pidPath = join(config.state_dir, `hang-${method}.pid`);
  await writeFile(`${pidPath}.tmp`, String(child.pid));
  await rename(`${pidPath}.tmp`, pidPath);
  return new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}

function respond(result: unknown, error: CpiError | null, log: string): void {
  process.stdout.write(`${JSON.stringify({ result, error, log })}\n`);
}

/**
 * `--config FILE` (as the director's cpi args), or, without it, defaults with the state under
 * `$TMPDIR/refit-test-cpi` so a director configured with no CPI args at all still has a CPI.
 */
async function loadConfig(argv: readonly string[]): Promise<Config> {
  const index = argv.indexOf('--config');
  if (index === -1) {
    // Also accepts the stemcells refit-stemcell builds, so a zero-config director can take them.
    const stemcellFormats = ['general-tar', 'refit-local-tgz'];
    return TestCpiConfig.parse({
      state_dir: join(tmpdir(), 'refit-test-cpi'),
      stemcell_formats: stemcellFormats,
    });
  }
  const path = argv[index + 1];
  if (path === undefined) throw new Error('usage: test-cpi [--config FILE]');
  return TestCpiConfig.parse(JSON.parse(await readFile(path, 'utf8')));
}

async function main(): Promise<void> {
  const config = await loadConfig(process.argv);
  const request = CpiRequest.parse(JSON.parse(await text(process.stdin)));
  const requestId = typeof request.context['request_id'] === 'string' ? request.context['request_id'] : '?';
  process.stderr.write(`test-cpi: ${request.method} (request ${requestId})\n`);

  await mkdir(config.state_dir, { recursive: true });
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const record = { ...request, env };
  await appendFile(join(config.state_dir, 'calls.jsonl'), `${JSON.stringify(record)}\n`);

  const log = `test-cpi handled ${request.method}\n`;
  const fault = await activeFault(config, request.method);
  switch (fault) {
    case null:
      break;
    case 'crash':
      throw new Error(`test-cpi crashed on purpose in ${request.method}`);
    case 'garbage':
      process.stdout.write('<html>this is not a CPI response</html>\n');
      return;
    case 'bad_schema':
      process.stdout.write(`${JSON.stringify({ result: 'x', error: null, log: 42 })}\n`);
      return;
    case 'hang':
      return hang(config, request.method);
    case 'cloud_error':
      respond(
        null,
        {
          type: CpiErrorType.CloudError,
          message: `injected failure in ${request.method}`,
          ok_to_retry: false,
        },
        log,
      );
      return;
    case 'retryable_error':
      respond(
        null,
        {
          type: CpiErrorType.CloudError,
          message: `injected retryable failure in ${request.method}`,
          ok_to_retry: true,
        },
        log,
      );
      return;
    case 'not_implemented':
      respond(
        null,
        {
          type: CpiErrorType.NotImplemented,
          message: `${request.method} is not implemented`,
          ok_to_retry: false,
        },
        log,
      );
      return;
  }

  const handler = handlers[request.method];
  if (handler === undefined) {
    respond(
      null,
      {
        type: CpiErrorType.NotImplemented,
        message: `Method is not implemented: ${request.method}`,
        ok_to_retry: false,
      },
      log,
    );
    return;
  }
  try {
    respond(await handler(request.arguments, config), null, log);
  } catch (error) {
    if (!(error instanceof CpiFailure)) throw error;
    respond(null, { type: error.type, message: error.message, ok_to_retry: error.okToRetry }, log);
  }
}

await main();
