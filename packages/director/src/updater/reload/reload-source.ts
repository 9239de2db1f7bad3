/**
 * What an instance reloaded in place needs: the generic stemcell (rootfs.tgz) its agent stages,
 * the failure policy, and how long to wait for the agent after the reboot.
 */
export interface ReloadSource {
  /** The IaaS stemcell the instance moves to (recorded on the VM row once it reports it). */
  readonly stemcell: { readonly name: string; readonly version: string; readonly operatingSystem: string };
  /** The rootfs.tgz in the director's blobstore. */
  readonly blobstoreId: string;
  /** `sha256:<hex>` of rootfs.tgz, checked by the agent while it downloads. */
  readonly digest: string;
  readonly size: number;
  /**
   * root.tar's sha256 (rootfs.MF `root_archive.sha256`) as the upload verified it; passed to
   * `update_rootfs` so a VM that still keeps that root stages it without a download.
   */
  readonly rootSha256?: string;
  /** `update.reload_fallback`: `recreate` makes a failed reload recreate the VM from v'. */
  readonly fallback: 'fail' | 'recreate';
  /** Deadline for the agent to come back on v' after `reboot` (default: agentWaitTimeoutMs, 600 s). */
  readonly bootTimeoutMs?: number;
  /** The task's debug log (downtime and bytes per instance). */
  readonly debug?: (line: string) => void;
}

/** What one reload did: for the event log, the debug log and the task result. */
export interface ReloadOutcome {
  readonly instance: string;
  readonly strategy: 'reload' | 'recreate-after-failed-reload';
  /** Drain start → jobs running, in ms. */
  readonly downtimeMs: number;
  /** Bytes the agent read from the blobstore. */
  readonly bytesFetched: number;
  readonly rootDigest: string | null;
}
