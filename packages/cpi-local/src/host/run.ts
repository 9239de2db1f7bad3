import { execFile } from 'node:child_process';

/** Host tools run with a cleared environment, as the director runs us. */
export const hostEnv = Object.freeze({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });

export class HostCommandError extends Error {
  override name = 'HostCommandError';
}

/** Runs a host tool (mount, umount, tar, …); rejects with its stderr on a non-zero exit. */
export function runHost(
  file: string,
  args: readonly string[],
  options: { signal?: AbortSignal; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: hostEnv, signal: options.signal, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || error.message;
          reject(new HostCommandError(`${file} ${args.join(' ')}: ${detail}`, { cause: error }));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
