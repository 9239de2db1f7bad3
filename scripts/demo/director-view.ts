// What the director holds, read through the refit CLI as an operator would: the demo's artifacts
// already uploaded, and per instance its VM, stemcell and the checksum of its disk's data.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEPLOYMENT, STEMCELL } from './deployment.ts';
import type { RefitCli } from './refit-cli.ts';
import type { InstanceSnapshot } from './reload-report.ts';
import { RELEASE } from './sample-release.ts';

const sha256 = async (path: string) =>
  readFile(path).then(
    (b) => createHash('sha256').update(b).digest('hex'),
    () => null,
  );

/** Per instance: VM CID, stemcell (as the director records it), checksum of its disk's data. */
export async function snapshot(
  cli: RefitCli,
  e: readonly string[],
  directorState: string,
): Promise<Map<string, InstanceSnapshot>> {
  const vms = await cli.rows([...e, '-d', DEPLOYMENT, 'vms']);
  const details = await cli.rows([...e, '-d', DEPLOYMENT, 'instances', '--details']);
  const out = new Map<string, InstanceSnapshot>();
  for (const vm of vms) {
    const detail = details.find((d) => d['instance'] === vm['instance']);
    const disk = (detail?.['disk_cids'] ?? '').split('\n')[0] ?? '';
    out.set(vm['instance'] ?? '?', {
      cid: vm['vm_cid'] ?? '',
      stemcell: vm['stemcell'] ?? '',
      dataSha256:
        disk === ''
          ? null
          : await sha256(join(directorState, 'cpi-local/state/disks', disk, 'data/web/data')),
    });
  }
  return out;
}

/** `stemcell 1.1`, `rootfs 1.2`, `release 1`: what of the demo's artifacts the director has. */
export async function alreadyUploaded(cli: RefitCli, e: readonly string[]): Promise<Set<string>> {
  const has = new Set<string>();
  const version = (r: Record<string, string>) => (r['version'] ?? '').replace(/\*$/, '');
  for (const r of await cli.rows([...e, 'stemcells'])) {
    if (r['name'] === STEMCELL.name) has.add(`stemcell ${version(r)}`);
  }
  for (const r of await cli.rows([...e, 'rootfs'])) {
    if (r['name'] === STEMCELL.name) has.add(`rootfs ${version(r)}`);
  }
  for (const r of await cli.rows([...e, 'releases'])) {
    if (r['name'] === RELEASE.name) has.add(`release ${version(r)}`);
  }
  const ours = [
    `stemcell ${STEMCELL.v1}`,
    `stemcell ${STEMCELL.v2}`,
    `rootfs ${STEMCELL.v2}`,
    `release ${RELEASE.version}`,
  ];
  return new Set(ours.filter((o) => has.has(o)));
}
