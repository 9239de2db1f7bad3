import { text } from 'node:stream/consumers';

const usage = `usage:
  refit-cpi-local --config FILE            one CPI request on stdin, the response on stdout
  refit-cpi-local tags VM_CID --config FILE print the VM's metadata (set_vm_metadata)
  refit-cpi-local supervise VM_DIR         (internal) a VM's supervisor`;

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

// Modules load per command: the supervisor lives as long as its VM and must stay small.
async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'supervise' && argv[1] !== undefined) {
    const { runSupervisor } = await import('./vm/supervisor.ts');
    await runSupervisor(argv[1]);
    return 0;
  }
  const configPath = option(argv, '--config');
  if (configPath === undefined) {
    console.error(usage);
    return 2;
  }
  const { loadConfig } = await import('./config.ts');
  if (argv[0] === 'tags') {
    const { vmTags } = await import('./vm-tags.ts');
    const tags = await vmTags(await loadConfig(configPath), argv[1] ?? '');
    if (tags === null) {
      console.error(`VM '${argv[1] ?? ''}' not found`);
      return 1;
    }
    console.log(JSON.stringify(tags, null, 2));
    return 0;
  }
  const { handleRequest } = await import('./handle-request.ts');
  const config = await loadConfig(configPath).catch((error: unknown) => error as Error);
  const input = await text(process.stdin);
  // A director that gives up on the call sends SIGTERM: stop waiting, answer with the error.
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort(new Error('the CPI call was terminated (SIGTERM)')));
  const response = await handleRequest(config, input, controller.signal);
  process.stdout.write(`${JSON.stringify(response)}\n`);
  // The director ignores the exit code (reference §2.1); 0 keeps it simple for wrappers.
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
