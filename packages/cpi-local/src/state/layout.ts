import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

export type CidKind = 'vm' | 'disk' | 'sc';

const cidPattern = /^(vm|disk|sc)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newCid(kind: CidKind): string {
  return `${kind}-${randomUUID()}`;
}

/** A CID from the director is only ever used as a path segment once it matches our own format. */
export function isCid(kind: CidKind, value: unknown): value is string {
  return typeof value === 'string' && cidPattern.test(value) && value.startsWith(`${kind}-`);
}

/** Where everything lives under the state dir. */
export class StateLayout {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }
  get stemcells(): string {
    return join(this.root, 'stemcells');
  }
  /** Unpacked root trees, content-addressed by the image's sha256 and shared by stemcells. */
  get roots(): string {
    return join(this.root, 'roots');
  }
  get vms(): string {
    return join(this.root, 'vms');
  }
  get disks(): string {
    return join(this.root, 'disks');
  }
  get locks(): string {
    return join(this.root, 'locks');
  }
  stemcellFile(cid: string): string {
    return join(this.stemcells, `${cid}.json`);
  }
  vm(cid: string): VmLayout {
    return new VmLayout(join(this.vms, cid));
  }
  disk(cid: string): DiskLayout {
    return new DiskLayout(join(this.disks, cid));
  }
}

/** One VM's directory. */
export class VmLayout {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get vmFile(): string {
    return join(this.dir, 'vm.json');
  }
  get bootFile(): string {
    return join(this.dir, 'boot.json');
  }
  get statusFile(): string {
    return join(this.dir, 'status.json');
  }
  get metadataFile(): string {
    return join(this.dir, 'metadata.json');
  }
  get upper(): string {
    return join(this.dir, 'upper');
  }
  get work(): string {
    return join(this.dir, 'work');
  }
  get merged(): string {
    return join(this.dir, 'merged');
  }
  /** Bind-mounted at /var/vcap/data: the ephemeral disk. */
  get ephemeral(): string {
    return join(this.dir, 'ephemeral');
  }
  /** A host mount with shared propagation, rbind-mounted at /var/vcap/bosh/disks in the VM. */
  get attach(): string {
    return join(this.dir, 'attach');
  }
  /** Bind-mounted read-only at /var/vcap/bosh/config-drive: holds settings.json. */
  get configDrive(): string {
    return join(this.dir, 'config-drive');
  }
  get settingsFile(): string {
    return join(this.configDrive, 'settings.json');
  }
  get consoleLog(): string {
    return join(this.dir, 'console.log');
  }
  get supervisorLog(): string {
    return join(this.dir, 'supervisor.log');
  }
}

export class DiskLayout {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get diskFile(): string {
    return join(this.dir, 'disk.json');
  }
  get data(): string {
    return join(this.dir, 'data');
  }
}

/** Paths inside the VM (the contract with the stemcell and the agent; see README). */
export const InVm = {
  ephemeral: '/var/vcap/data',
  disks: '/var/vcap/bosh/disks',
  configDrive: '/var/vcap/bosh/config-drive',
  settings: '/var/vcap/bosh/settings.json',
  diskPath: (diskCid: string) => `/var/vcap/bosh/disks/${diskCid}`,
} as const;
