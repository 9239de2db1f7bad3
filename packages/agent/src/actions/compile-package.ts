import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CompilePackageArgs } from '@refit/protocol';
import { createTgz, extractTgz } from '../archive/tgz.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { replaceSymlink } from '../jobs/installer.ts';
import { runProgram, SCRIPT_PATH } from '../jobs/run-program.ts';
import { defineAction } from './action.ts';

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * Compiles a source package: installs its compiled dependencies under /var/vcap/packages,
 * unpacks the source into /var/vcap/data/compile/<name>, runs its `packaging` script with
 * BOSH_COMPILE_TARGET / BOSH_INSTALL_TARGET, tars the install target and uploads it.
 */
export const compilePackage = defineAction({
  method: 'compile_package',
  mode: 'async',
  args: CompilePackageArgs,
  async run(ctx, [blobstoreId, digest, name, version, deps], signal) {
    const { paths, installer, blobstore } = ctx;
    await mkdir(paths.packages, { recursive: true });
    for (const dep of Object.values(deps)) {
      const dir = installer.packageDir(dep);
      if (!(await exists(dir))) {
        const tmp = join(paths.dataTmp, `dep-${randomUUID()}`);
        try {
          await blobstore.fetch({ blobstoreId: dep.blobstore_id, digest: dep.sha1 }, tmp, signal);
          await extractTgz(tmp, dir, { signal });
        } finally {
          await rm(tmp, { force: true });
        }
      }
      await replaceSymlink(dir, join(paths.packages, dep.name));
    }
    const compileTarget = join(paths.compileDir, name);
    const installDir = installer.packageDir({ name, version });
    const installTarget = join(paths.packages, name);
    const source = join(paths.dataTmp, `source-${randomUUID()}`);
    const result = join(paths.dataTmp, `compiled-${randomUUID()}.tgz`);
    await rm(compileTarget, { recursive: true, force: true });
    await rm(installDir, { recursive: true, force: true });
    try {
      await blobstore.fetch({ blobstoreId, digest }, source, signal);
      await extractTgz(source, compileTarget, { signal });
      await mkdir(installDir, { recursive: true });
      await replaceSymlink(installDir, installTarget);
      const packaging = join(compileTarget, 'packaging');
      if (!(await exists(packaging))) {
        throw new AgentError(AgentErrorCode.ScriptFailed, `package ${name} has no packaging script`);
      }
      const shell = (await exists('/bin/bash')) ? '/bin/bash' : '/bin/sh';
      const log = join(paths.sysLog, 'compile', `${name}.log`);
      const run = await runProgram({
        argv: [shell, '-x', 'packaging'],
        cwd: compileTarget,
        env: {
          PATH: SCRIPT_PATH,
          LANG: 'C.UTF-8',
          HOME: compileTarget,
          BOSH_COMPILE_TARGET: compileTarget,
          BOSH_INSTALL_TARGET: installTarget,
          BOSH_PACKAGE_NAME: name,
          BOSH_PACKAGE_VERSION: version,
        },
        signal,
        stdoutLog: log,
        stderrLog: log,
      });
      if (run.exitCode !== 0) {
        const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
        throw new AgentError(
          AgentErrorCode.ScriptFailed,
          `Compiling package ${name}: packaging exited ${run.exitCode ?? run.signal}:\n${tail}`,
        );
      }
      await createTgz(installDir, result, signal);
      const uploaded = await blobstore.upload(result, signal);
      return { result: uploaded };
    } finally {
      await rm(source, { force: true });
      await rm(result, { force: true });
      await rm(compileTarget, { recursive: true, force: true });
    }
  },
});
