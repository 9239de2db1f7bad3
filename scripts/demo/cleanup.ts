// What must be gone after the demo stops: VM supervisors (the local CPI's VMs) and mounts under
// the state dir. Anything the director's delete-deployment left behind is deleted through the
// local CPI itself, as the director would.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

async function callCpi(bin: string, config: string, method: string, args: unknown[]): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const child = spawn(bin, ['--config', config], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', fail);
    child.once('close', () => {
      try {
        const response = JSON.parse(out) as { error?: { message?: string } | null };
        if (response.error) fail(new Error(`${method}: ${response.error.message ?? 'CPI error'}`));
        else ok();
      } catch {
        fail(new Error(`${method}: no valid CPI response`));
      }
    });
    child.stdin.end(
      JSON.stringify({ method, arguments: args, context: { director_uuid: 'demo' }, api_version: 2 }),
    );
  });
}

export const vmsOnHost = async (directorState: string): Promise<string[]> =>
  (await readdir(join(directorState, 'cpi-local/state/vms')).catch(() => [] as string[])).sort();

export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return info
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Deletes every VM still on the host through the local CPI; answers what could not be deleted. */
export async function deleteLeftoverVms(options: { repo: string; directorState: string }): Promise<string[]> {
  const bin = join(options.repo, 'packages/cpi-local/bin/refit-cpi-local');
  const config = join(options.directorState, 'cpi-local/cpi.yml');
  const failed: string[] = [];
  for (const vm of await vmsOnHost(options.directorState)) {
    await callCpi(bin, config, 'delete_vm', [vm]).catch((error: unknown) =>
      failed.push(`${vm}: ${(error as Error).message}`),
    );
  }
  return failed;
}
