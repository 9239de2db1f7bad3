import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RootfsBootRecord, STAGED_ROOTS_DIR, type RootfsManifest } from '@refit/protocol';
import { AgentError, AgentErrorCode, errorMessage } from '../errors.ts';
import { readBootState } from './boot-state.ts';
import { keptDir } from './kept-root.ts';
import type { StageRequest } from './stage-rootfs.ts';

/**
 * Runs the install script for `stagedRoot` and checks the boot record it wrote. On failure
 * nothing points at the root, and the root (with its kept files) goes unless it is in use.
 */
export async function installStaged(
  install: Buffer,
  stagedRoot: string,
  manifest: RootfsManifest,
  req: StageRequest,
): Promise<void> {
  const { paths } = req;
  const sha256 = manifest.root_archive.sha256;
  try {
    await runInstall(install, stagedRoot, manifest, req);
    const record = RootfsBootRecord.parse(JSON.parse(await readFile(paths.nextFile, 'utf8')));
    if (record.root !== stagedRoot || record.root_archive_sha256 !== sha256) {
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        `install wrote a boot record for ${record.root}, not ${stagedRoot}`,
      );
    }
  } catch (error) {
    // Nothing may point at a root whose install failed; the root itself goes unless in use.
    const next = await readFile(paths.nextFile, 'utf8').catch(() => '');
    if (next.includes(sha256)) await rm(paths.nextFile, { force: true });
    const state = await readBootState(paths).catch(() => null);
    const inUse = [state?.current, state?.previous, state?.pending, state?.booted].some(
      (r) => r?.root === stagedRoot,
    );
    if (!inUse) {
      await rm(paths.local(stagedRoot), { recursive: true, force: true });
      await rm(keptDir(paths, stagedRoot.slice(STAGED_ROOTS_DIR.length + 1)), {
        recursive: true,
        force: true,
      });
    }
    throw error;
  }
}

function runInstall(
  script: Buffer,
  stagedRoot: string,
  manifest: RootfsManifest,
  req: StageRequest,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const file = join(req.paths.downloads, `install-${manifest.root_archive.sha256}`);
    void writeFile(file, script, { mode: 0o755 }).then(() => {
      const child = spawn('/bin/sh', [file, stagedRoot], {
        env: {
          PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
          REFIT_STAGED_ROOT: stagedRoot,
          REFIT_ROOT_DIGEST: manifest.root_archive.sha256,
          REFIT_STEMCELL_VERSION: manifest.version,
          REFIT_STEMCELL_NAME: manifest.name,
          REFIT_BOOT_RECORD: req.paths.nextFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: AbortSignal.any([req.signal, AbortSignal.timeout(req.installTimeoutMs)]),
        killSignal: 'SIGKILL',
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-2000)));
      child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-2000)));
      child.on('error', (error) =>
        reject(
          new AgentError(AgentErrorCode.ScriptFailed, `install: ${errorMessage(error)}`, { cause: error }),
        ),
      );
      child.on('close', (code, signal) => {
        void rm(file, { force: true });
        if (code === 0) resolve();
        else
          reject(
            new AgentError(
              AgentErrorCode.ScriptFailed,
              `install exited with ${signal ?? `status ${code}`}: ${output.trim().split('\n').slice(-5).join('; ')}`,
            ),
          );
      });
    }, reject);
  });
}
