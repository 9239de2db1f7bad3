import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AgentError, AgentErrorCode } from '../errors.ts';

const run = promisify(execFile);

/**
 * Copies everything under `from` (dotfiles included) into `to`, keeping modes, owners, times,
 * symlinks, hard links and special files: `cp -a`, as the stemcell's coreutils do it. The copy is
 * killed when `signal` aborts.
 */
export async function copyTree(from: string, to: string, signal: AbortSignal): Promise<void> {
  try {
    await run('cp', ['-a', '--', `${from}/.`, `${to}/`], { signal, maxBuffer: 1024 * 1024 });
  } catch (cause) {
    if (signal.aborted) throw signal.reason as Error;
    const stderr = (cause as { stderr?: string }).stderr?.trim() ?? '';
    throw new AgentError(AgentErrorCode.Disk, `copying ${from} to ${to} failed: ${stderr}`, { cause });
  }
}
