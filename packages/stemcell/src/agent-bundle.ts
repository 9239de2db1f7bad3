import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * Bundles the agent (its sources, @refit/protocol, nats, zod, …) into one ES module that the
 * VM's node runs, so the root needs no node_modules. esbuild output is deterministic for the
 * same sources, so the same agent gives the same stemcell digests.
 */
export async function bundleAgent(entry: string, outDir: string): Promise<{ file: string; size: number }> {
  const file = join(outDir, 'refit-agent.mjs');
  try {
    await stat(entry);
  } catch (cause) {
    throw new Error(`agent entry point ${entry} not found (is packages/agent in this checkout?)`, { cause });
  }
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: false,
    sourcemap: false,
    legalComments: 'inline',
    logLevel: 'silent',
    // CommonJS dependencies bundled into an ES module still call require() for Node builtins.
    banner: {
      js: "import { createRequire as __refitCreateRequire } from 'node:module';\nconst require = __refitCreateRequire(import.meta.url);",
    },
  });
  return { file, size: (await stat(file)).size };
}
