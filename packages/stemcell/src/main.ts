#!/usr/bin/env node
// refit-stemcell: builds the two artifacts of one stemcell version (see README.md).
import { writeSync } from 'node:fs';
import { buildStemcell } from './build-stemcell.ts';
import { USAGE, UsageError, parseBuildArgs, parseKeygenArgs } from './build-args.ts';
import { generateSigningKey } from './rootfs-signing.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'keygen') {
    const keys = await generateSigningKey(parseKeygenArgs(rest).outDir);
    writeSync(1, `${JSON.stringify(keys, null, 2)}\n`);
    return 0;
  }
  if (command !== 'build') throw new UsageError(`unknown command '${command}'\n${USAGE}`);
  const options = parseBuildArgs(rest, process.env);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const result = await buildStemcell({ ...options, signal: controller.signal });
  writeSync(1, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`refit-stemcell: ${message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
