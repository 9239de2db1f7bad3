import { spawn } from 'node:child_process';
import { CpiResponse } from '@refit/protocol';

export class CpiCallError extends Error {
  readonly code = 'cpi_error';
  readonly type: string;
  constructor(method: string, type: string, message: string) {
    super(`${method}: ${type}: ${message}`);
    this.type = type;
  }
}

export interface CpiCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * One CPI call as the director makes it (reference §2.1): a fresh process with a cleared
 * environment, one JSON request on stdin, one JSON response on stdout.
 */
export async function callCpi(
  cpi: CpiCommand,
  method: string,
  args: unknown[],
  timeoutMs = 60_000,
): Promise<unknown> {
  const child = spawn(cpi.command, [...cpi.args], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  child.stdin.end(
    JSON.stringify({ method, arguments: args, context: { director_uuid: 'vm-e2e' }, api_version: 2 }),
  );
  const code = await exited;
  let response: CpiResponse;
  try {
    response = CpiResponse.parse(JSON.parse(stdout));
  } catch {
    throw new Error(
      `${method}: CPI exited ${code} without a valid response; stdout: ${stdout.slice(0, 500)} stderr: ${stderr.slice(-2000)}`,
    );
  }
  if (response.error) throw new CpiCallError(method, response.error.type, response.error.message);
  return response.result;
}
