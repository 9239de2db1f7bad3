import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostBusybox } from '../host/busybox.ts';

const run = promisify(execFile);

/**
 * The test stemcell's init (no agent): counts boots in /var/vcap/data, appends a marker line,
 * appends the boot to every attached disk, and on request reboots or powers off from inside
 * with busybox (reboot(2) in the VM's PID namespace).
 */
export const testInit = `#!/bin/busybox sh
B=/bin/busybox
D=/var/vcap/data
n=$(( $($B cat $D/boot-count 2>/dev/null || echo 0) + 1 ))
echo $n > $D/boot-count
for d in /var/vcap/bosh/disks/*; do [ -d "$d" ] && echo "boot $n" >> "$d/boots"; done
echo "boot $n pid=$$ host=$($B hostname) env=$($B env | $B tr '\\n' ' ')" >> $D/boot-markers
while :; do
  if [ -e $D/reboot-request ]; then $B rm -f $D/reboot-request; $B sync; $B reboot -f; fi
  if [ -e $D/poweroff-request ]; then $B rm -f $D/poweroff-request; $B sync; $B poweroff -f; fi
  $B sleep 0.05
done
`;

/**
 * Builds a tiny stemcell image (a gzipped tar of a busybox-static root with `testInit` as
 * /sbin/refit-init) and returns its path inside `dir`. A `label` makes a distinct image.
 */
export async function buildBusyboxStemcellImage(
  dir: string,
  options: { label?: string } = {},
): Promise<string> {
  const busybox = await hostBusybox(undefined);
  const root = await mkdtemp(join(dir, 'root-'));
  await chmod(root, 0o755);
  try {
    for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'var/vcap/bosh', 'var/vcap/data']) {
      await mkdir(join(root, d), { recursive: true });
    }
    await copyFile(busybox, join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    await run('chroot', [root, '/bin/busybox', '--install', '-s'], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    await writeFile(join(root, 'sbin/refit-init'), testInit, { mode: 0o755 });
    await writeFile(
      join(root, 'etc/os-release'),
      `ID=refit-test\nVERSION_ID=0\nLABEL=${options.label ?? ''}\n`,
    );
    const image = join(dir, options.label === undefined ? 'image.tgz' : `image-${options.label}.tgz`);
    await run('tar', ['-C', root, '-czf', image, '.'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    return image;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
