import { homedir } from 'node:os';
import { runCli } from './run-cli.ts';

// The refit executable: wires the real process (argv, env, stdio, SIGINT) to runCli.
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('Interrupted')));
// Output piped into a reader that stops early (`refit task 5 --event | head`): end quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  home: process.env['HOME'] ?? homedir(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: process.stdin,
  stdoutIsTty: process.stdout.isTTY,
  signal: controller.signal,
});
process.exitCode = exitCode;
