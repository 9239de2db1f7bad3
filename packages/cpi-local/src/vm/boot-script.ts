import { InVm } from '../state/layout.ts';

/**
 * The shell program `unshare` runs as the new PID namespace's first process. It builds the VM's
 * root inside the VM's own mount namespace (so every mount vanishes with the VM's last process),
 * pivots into it, drops the host's root, reports "booted" on fd 3 and becomes the VM's init with
 * only PATH in its environment. Values arrive as positional parameters (never exported).
 */
export const bootScript = `set -eu
M=$1 LOWER=$2 UPPER=$3 WORK=$4 EPH=$5 ATTACH=$6 CONF=$7 NAME=$8 BUSYBOX=$9 INIT=\${10}
mount --make-rslave /
hostname "$NAME"
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK" "$M"
mkdir -p "$M/proc" "$M/sys" "$M/dev" "$M/tmp" "$M${InVm.ephemeral}" "$M${InVm.disks}" "$M${InVm.configDrive}" "$M/.refit-oldroot"
mount -t proc -o nosuid,nodev,noexec proc "$M/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$M/sys"
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$M/dev"
mknod -m 666 "$M/dev/null" c 1 3
mknod -m 666 "$M/dev/zero" c 1 5
mknod -m 666 "$M/dev/full" c 1 7
mknod -m 666 "$M/dev/random" c 1 8
mknod -m 666 "$M/dev/urandom" c 1 9
mknod -m 666 "$M/dev/tty" c 5 0
ln -s /proc/self/fd "$M/dev/fd"
ln -s /proc/self/fd/0 "$M/dev/stdin"
ln -s /proc/self/fd/1 "$M/dev/stdout"
ln -s /proc/self/fd/2 "$M/dev/stderr"
mkdir "$M/dev/shm" "$M/dev/pts"
mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev tmpfs "$M/dev/shm"
mount -t tmpfs -o mode=1777,size=256m,nosuid,nodev tmpfs "$M/tmp"
mount --bind "$EPH" "$M${InVm.ephemeral}"
mount --rbind "$ATTACH" "$M${InVm.disks}"
mount --bind "$CONF" "$M${InVm.configDrive}"
mount -o remount,bind,ro "$M${InVm.configDrive}"
ln -sfn config-drive/settings.json "$M${InVm.settings}"
cd "$M"
pivot_root . .refit-oldroot
"/.refit-oldroot$BUSYBOX" umount -l /.refit-oldroot
echo booted >&3
exec 3>&-
unset OLDPWD
exec "$INIT"
`;

export interface BootParameters {
  readonly merged: string;
  readonly lower: string;
  readonly upper: string;
  readonly work: string;
  readonly ephemeral: string;
  readonly attach: string;
  readonly configDrive: string;
  readonly hostname: string;
  readonly hostBusybox: string;
  readonly initPath: string;
}

/** argv for `unshare`: mount, PID, UTS and IPC namespaces; the host network is shared. */
export function unshareArgs(p: BootParameters): string[] {
  return [
    '--mount',
    '--pid',
    '--uts',
    '--ipc',
    '--fork',
    '--kill-child',
    '--propagation',
    'unchanged',
    '/bin/sh',
    '-c',
    bootScript,
    'refit-boot',
    p.merged,
    p.lower,
    p.upper,
    p.work,
    p.ephemeral,
    p.attach,
    p.configDrive,
    p.hostname,
    p.hostBusybox,
    p.initPath,
  ];
}
