import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOCAL_STEMCELL_FORMAT, type BuildOptions } from './build-stemcell.ts';

export class UsageError extends Error {
  readonly code = 'usage';
}

export const USAGE = `usage: refit-stemcell build --name N --version V --os OS --out DIR (--root TREE | --base minimal)
  [--busybox FILE] [--node FILE] [--agent-entry FILE] [--stemcell-format F]
  [--compression-level 0-9] [--mtime EPOCH_SECONDS] [--heartbeat-interval SECONDS (default 30)]
  [--signing-key KEY.pem] [--trust-key PUB.pem]...
       refit-stemcell keygen --out DIR`;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const identifier = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function required(values: Record<string, unknown>, key: string): string {
  const value = values[key];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${key} is required\n${USAGE}`);
  return value;
}

function checkedIdentifier(values: Record<string, unknown>, key: string): string {
  const value = required(values, key);
  if (!identifier.test(value)) throw new UsageError(`--${key} '${value}' must match ${identifier.source}`);
  return value;
}

function integerIn(text: string, key: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${key} must be an integer in ${min}..${max}`);
  return n;
}

/** Parses `build`'s flags once into complete build options (defaults applied). */
export function parseBuildArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BuildOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        name: { type: 'string' },
        version: { type: 'string' },
        os: { type: 'string' },
        out: { type: 'string' },
        root: { type: 'string' },
        base: { type: 'string' },
        busybox: { type: 'string' },
        node: { type: 'string' },
        'agent-entry': { type: 'string' },
        'stemcell-format': { type: 'string' },
        'compression-level': { type: 'string' },
        mtime: { type: 'string' },
        'heartbeat-interval': { type: 'string' },
        'signing-key': { type: 'string' },
        'trust-key': { type: 'string', multiple: true },
      },
    });
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const v = parsed.values;
  if ((v.root === undefined) === (v.base === undefined))
    throw new UsageError(`give exactly one of --root TREE and --base minimal\n${USAGE}`);
  if (v.base !== undefined && v.base !== 'minimal')
    throw new UsageError(`--base '${v.base}' is unknown; the only base is 'minimal'`);
  const mtimeText = v.mtime ?? env.SOURCE_DATE_EPOCH ?? '0';
  return {
    name: checkedIdentifier(v, 'name'),
    version: checkedIdentifier(v, 'version'),
    operatingSystem: checkedIdentifier(v, 'os'),
    outDir: resolve(required(v, 'out')),
    root:
      v.root !== undefined
        ? { kind: 'tree', path: resolve(v.root) }
        : {
            kind: 'minimal',
            busybox: resolve(v.busybox ?? '/bin/busybox'),
            node: resolve(v.node ?? join(repoRoot, 'node_modules/node/bin/node')),
          },
    agentEntry: resolve(v['agent-entry'] ?? join(repoRoot, 'packages/agent/src/main.ts')),
    stemcellFormat: v['stemcell-format'] ?? LOCAL_STEMCELL_FORMAT,
    compressionLevel: integerIn(v['compression-level'] ?? '1', 'compression-level', 0, 9),
    mtime: new Date(integerIn(mtimeText, 'mtime', 0, 2 ** 33) * 1000),
    heartbeatSeconds: integerIn(v['heartbeat-interval'] ?? '30', 'heartbeat-interval', 1, 3600),
    ...(v['signing-key'] === undefined ? {} : { signingKey: resolve(v['signing-key']) }),
    ...(v['trust-key'] === undefined ? {} : { trustKeys: v['trust-key'].map((k) => resolve(k)) }),
  };
}

/** Parses `keygen`'s flags: the directory the key pair goes to. */
export function parseKeygenArgs(argv: readonly string[]): { outDir: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, options: { out: { type: 'string' } } });
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\n${USAGE}`, { cause });
  }
  return { outDir: resolve(required(parsed.values, 'out')) };
}
