import type { CpiInfo } from '@refit/protocol';
import type { Cloud, CpiCallOptions } from '@refit/director/cpi-client/cloud.ts';
import type { CallLog } from './call-log.ts';

/**
 * An in-memory CPI for updater unit tests: VM and disk CIDs `vm-1`, `disk-1`, …; every call
 * goes to the log as `cpi:<method>` (plus `:<first arg>` for calls naming a VM or disk).
 */
export class FakeCloud implements Cloud {
  readonly name = 'fake';
  readonly calls: { method: string; args: readonly unknown[] }[] = [];
  readonly vms = new Map<string, { agentId: string; disks: Set<string> }>();
  readonly disks = new Set<string>();
  readonly #log: CallLog;
  #next = 0;
  /** Return an error to make that call fail. */
  failWith: ((method: string, args: readonly unknown[]) => Error | undefined) | null = null;

  constructor(log: CallLog) {
    this.#log = log;
  }

  info(): Promise<CpiInfo> {
    return Promise.resolve({ api_version: 2, stemcell_formats: ['fake'] } as unknown as CpiInfo);
  }

  call(method: string, args: readonly unknown[], options: CpiCallOptions): Promise<unknown> {
    options.signal.throwIfAborted();
    this.calls.push({ method, args });
    const subject = method === 'create_vm' ? '' : typeof args[0] === 'string' ? `:${args[0]}` : '';
    this.#log.add(`cpi:${method}${subject}`);
    const failure = this.failWith?.(method, args);
    if (failure) return Promise.reject(failure);
    switch (method) {
      case 'create_vm': {
        const cid = `vm-${++this.#next}`;
        this.vms.set(cid, {
          agentId: String(args[0]),
          disks: new Set((args[4] as string[] | undefined) ?? []),
        });
        return Promise.resolve(cid);
      }
      case 'delete_vm':
        this.vms.delete(String(args[0]));
        return Promise.resolve(null);
      case 'create_disk': {
        const cid = `disk-${++this.#next}`;
        this.disks.add(cid);
        return Promise.resolve(cid);
      }
      case 'delete_disk':
        this.disks.delete(String(args[0]));
        return Promise.resolve(null);
      case 'attach_disk':
        this.vms.get(String(args[0]))?.disks.add(String(args[1]));
        return Promise.resolve(`/dev/fake/${String(args[1])}`);
      case 'detach_disk':
        this.vms.get(String(args[0]))?.disks.delete(String(args[1]));
        return Promise.resolve(null);
      default:
        return Promise.resolve(null);
    }
  }
}
