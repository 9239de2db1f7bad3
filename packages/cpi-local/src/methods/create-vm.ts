import { mkdir, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { CpiErrorType, CpiNetworks, type LocalVmBoot } from '@refit/protocol';
import { writeSettings } from '../agent-settings.ts';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { hostBusybox } from '../host/busybox.ts';
import { checkLoopbackNetworks } from '../networks.ts';
import { writeJsonFile } from '../state/json-file.ts';
import { newCid } from '../state/layout.ts';
import type { VmRecord } from '../state/records.ts';
import { findStemcell } from '../state/stores.ts';
import { ensureAttachMount } from '../vm/attach-mounts.ts';
import { startSupervisor } from '../vm/vm-control.ts';
import { destroyVm } from './delete-vm.ts';
import { parseArgs } from './parse-args.ts';

const Record_ = z.record(z.string(), z.unknown());
const Args = z
  .tuple([
    z.string().min(1),
    z.string(),
    Record_.nullable().default({}),
    CpiNetworks,
    z.unknown().optional(),
    Record_.nullable().optional(),
  ])
  .rest(z.unknown());

/** `[agent_id, stemcell_cid, cloud_properties, networks, disk_cids, env]` → `[vm_cid, networks]`. */
export const createVm: CpiMethodHandler = {
  method: 'create_vm',
  async run(ctx, args) {
    const [agentId, stemcellCid, cloudProperties, networks, , env] = parseArgs('create_vm', Args, args);
    checkLoopbackNetworks(networks);
    const stemcell = await findStemcell(ctx.state, stemcellCid);
    if (stemcell === null) throw CpiFailure.cloud(`create_vm: stemcell '${stemcellCid}' not found`);
    const busybox = await hostBusybox(ctx.config.hostBusybox);

    const cid = newCid('vm');
    const vm = ctx.state.vm(cid);
    const record: VmRecord = {
      cid,
      agent_id: agentId,
      stemcell_cid: stemcell.cid,
      networks,
      cloud_properties: cloudProperties ?? {},
      env: env ?? {},
      init_path: ctx.config.initPath,
      host_busybox: busybox,
      boot_timeout_ms: ctx.config.bootTimeoutMs,
      max_boot_attempts: ctx.config.maxBootAttempts,
      commit_deadline_ms: ctx.config.commitDeadlineMs,
      created_at: new Date().toISOString(),
    };
    const boot: LocalVmBoot = { lower: stemcell.root, fallback: null, reset_upper: false };
    try {
      await mkdir(vm.dir, { recursive: true });
      await Promise.all(
        [vm.upper, vm.work, vm.merged, vm.ephemeral].map((d) => mkdir(d, { recursive: true })),
      );
      await writeJsonFile(vm.bootFile, boot);
      await writeJsonFile(vm.metadataFile, {});
      await writeSettings(ctx.config, vm, record, []);
      await writeFile(vm.consoleLog, '');
      await writeJsonFile(vm.vmFile, record);
      await ensureAttachMount(vm);
      const status = await startSupervisor(
        vm,
        AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.config.bootTimeoutMs)]),
      );
      ctx.log(`vm ${cid}: booted (init pid ${status.init?.pid ?? '?'}) on ${status.lower ?? '?'}`);
    } catch (error) {
      await destroyVm(ctx, cid).catch((cleanup: unknown) =>
        ctx.log(`cleanup of ${cid} failed: ${String(cleanup)}`),
      );
      throw new CpiFailure(
        CpiErrorType.VMCreationFailed,
        `create_vm: VM failed to boot: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return [cid, networks];
  },
};
