import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import { CpiProcess } from './cpi-process.ts';
import { defineDiskTests } from './disk-tests.ts';
import { defineMethodTests } from './method-tests.ts';
import { defineVmTests } from './vm-tests.ts';

export interface CpiConformanceOptions {
  /** Title of the suite. */
  readonly name?: string;
  /** The CPI executable, called once per method with a cleared environment. */
  readonly cpiCommand: string;
  readonly configPath: string;
  /** Arguments of the executable; default `['--config', configPath]`. */
  readonly cpiArgs?: readonly string[];
  /** The stemcell's `image` file (what the director passes to create_stemcell). */
  readonly stemcellImagePath: string;
  readonly stemcellCloudProperties?: Record<string, unknown>;
  readonly vmCloudProperties?: Record<string, unknown>;
  /** Networks for create_vm; default: one manual network on a 127.0.0.0/8 address. */
  readonly networks?: () => Record<string, unknown>;
  /**
   * What a VM left on the host (processes, mounts, paths), one line each: checked empty after
   * delete_vm. Without it only the CPI's own view (has_vm) is checked.
   */
  readonly vmTraces?: (vmCid: string) => Promise<string[]>;
  /** How many times a VM's init has started: proves reboot_vm really rebooted. */
  readonly bootCount?: (vmCid: string) => Promise<number>;
  /** Refit's rule: addresses outside 127.0.0.0/8 are refused (default true). */
  readonly loopbackOnly?: boolean;
  /** Skip the whole suite with this reason (e.g. the CPI needs root). */
  readonly skip?: string | false;
  /** Per-test timeout; default 120 s. */
  readonly timeoutMs?: number;
}

/** What the test groups share: the CPI, the stemcell, and the resources to clean up. */
export interface ConformanceContext {
  readonly cpi: CpiProcess;
  readonly options: CpiConformanceOptions;
  readonly timeout: number;
  stemcellCid(): string;
  networks(): Record<string, unknown>;
  createVm(): Promise<string>;
  createDisk(): Promise<string>;
  /** Polls until `probe` returns true, failing with `what` after the test timeout. */
  eventually(what: string, probe: () => Promise<boolean>): Promise<void>;
}

let nextAddress = 10;

/**
 * Defines node:test tests that every CPI in the repository must pass: each method's result and
 * error shapes, VM and disk lifecycles, reboot, and cleanup. Call it at the top level of a test
 * file; the CPI's resources made by the suite are deleted after it, even when tests fail.
 */
export function runCpiConformance(options: CpiConformanceOptions): void {
  const timeout = options.timeoutMs ?? 120_000;
  const cpi = new CpiProcess({
    command: options.cpiCommand,
    args: options.cpiArgs ?? ['--config', options.configPath],
    timeoutMs: timeout,
  });
  const vms = new Set<string>();
  const disks = new Set<string>();
  let stemcell: string | null = null;

  const ctx: ConformanceContext = {
    cpi,
    options,
    timeout,
    stemcellCid() {
      assert.ok(stemcell, 'create_stemcell ran before this test');
      return stemcell;
    },
    networks() {
      if (options.networks) return options.networks();
      nextAddress += 1;
      return {
        default: {
          type: 'manual',
          ip: `127.0.${(nextAddress >> 8) & 255}.${nextAddress & 255}`,
          netmask: '255.255.255.0',
          gateway: '127.0.0.1',
          dns: [],
          default: ['dns', 'gateway'],
          cloud_properties: {},
        },
      };
    },
    async createVm() {
      const agentId = `agent-conformance-${vms.size}`;
      const result = await cpi.call('create_vm', [
        agentId,
        ctx.stemcellCid(),
        options.vmCloudProperties ?? {},
        ctx.networks(),
        [],
        {},
      ]);
      assert.ok(
        Array.isArray(result),
        `create_vm returns [vm_cid, networks] (got ${JSON.stringify(result)})`,
      );
      const [cid, networks] = result as unknown[];
      assert.equal(typeof cid, 'string');
      assert.equal(typeof networks, 'object');
      vms.add(cid as string);
      return cid as string;
    },
    async createDisk() {
      const cid = await cpi.call('create_disk', [64, {}, null]);
      assert.equal(typeof cid, 'string', 'create_disk returns a string CID');
      disks.add(cid as string);
      return cid as string;
    },
    async eventually(what, probe) {
      const deadline = Date.now() + timeout;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };

  describe(
    options.name ?? `CPI conformance: ${options.cpiCommand}`,
    { timeout: timeout * 10, skip: options.skip ?? false },
    () => {
      before(async () => {
        const cid = await cpi.call('create_stemcell', [
          options.stemcellImagePath,
          options.stemcellCloudProperties ?? {},
        ]);
        assert.equal(typeof cid, 'string', 'create_stemcell returns a string CID');
        stemcell = cid as string;
      });

      after(async () => {
        // Best effort, in dependency order: VMs (which releases disks), disks, the stemcell.
        for (const vm of vms) await cpi.request('delete_vm', [vm]).catch(() => undefined);
        for (const disk of disks) await cpi.request('delete_disk', [disk]).catch(() => undefined);
        if (stemcell !== null) await cpi.request('delete_stemcell', [stemcell]).catch(() => undefined);
      });

      defineMethodTests(ctx);
      defineVmTests(ctx, {
        forget: (cid) => vms.delete(cid),
      });
      defineDiskTests(ctx, {
        forget: (cid) => disks.delete(cid),
        forgetVm: (cid) => vms.delete(cid),
      });

      it('delete_stemcell removes the stemcell: create_vm from it fails', { timeout }, async () => {
        const extra = await cpi.call('create_stemcell', [options.stemcellImagePath, {}]);
        assert.equal(typeof extra, 'string');
        assert.equal(await cpi.call('delete_stemcell', [extra]), null);
        const error = await cpi.failure('create_vm', ['agent-x', extra, {}, ctx.networks(), [], {}]);
        assert.notEqual(error.type, CpiErrorType.NotImplemented);
      });
    },
  );
}
