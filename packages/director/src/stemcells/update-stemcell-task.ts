import { join } from 'node:path';
import type { StemcellManifest } from '@refit/protocol';
import { checkCpiInfo, stemcellFormatsMatch } from '../cpi-client/cpi-info.ts';
import {
  CpiCallFailed,
  DirectorError,
  StemcellAlreadyExists,
  StemcellNotSupported,
  StemcellSha1DoesNotMatch,
} from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { extractStemcell } from './extract-stemcell.ts';
import type { ScratchSpace } from './scratch-space.ts';
import { StemcellStore } from './stemcell-store.ts';
import { fetchArchive, fetchSteps, UploadTaskParams } from './upload-intake.ts';

export const UPDATE_STEMCELL = 'update_stemcell';

type Deps = Pick<DirectorDeps, 'db' | 'cloud' | 'events'>;

/**
 * `update_stemcell` (BOSH's jobs/update_stemcell.rb): stage `Update stemcell` with, in order,
 * `Downloading remote stemcell` and `Verifying remote stemcell` (URL uploads), `Extracting
 * stemcell archive`, `Verifying stemcell manifest`, `Checking if this stemcell already exists`,
 * `Uploading stemcell <n>/<v> to the cloud`, `Save stemcell <n>/<v> (<cid>)`. An existing
 * stemcell is not uploaded again (the last two steps say `(already exists, skipped)`) unless
 * `fix`. The upload's scratch folder is removed however the task ends.
 */
export function updateStemcellTask(deps: Deps, scratch: ScratchSpace): TaskHandler<UploadTaskParams> {
  return {
    type: UPDATE_STEMCELL,
    parseParams: (raw) => UploadTaskParams.parse(raw),
    async run(ctx, params) {
      const store = new StemcellStore(deps.db);
      let objectName: string | null = null;
      try {
        const stage = ctx.events.stage('Update stemcell', { total: fetchSteps(params) + 2 + 3 });
        const archive = await fetchArchive({
          what: 'stemcell',
          ctx,
          stage,
          params,
          scratch,
          digestMismatch: (message) => new StemcellSha1DoesNotMatch(message),
        });
        const extracted = join(params.scratchDir, 'extracted');
        const contents = await stage.task('Extracting stemcell archive', () =>
          extractStemcell(archive, extracted, ctx.signal),
        );
        const manifest: StemcellManifest = await stage.task('Verifying stemcell manifest', () =>
          Promise.resolve(contents.readManifest()),
        );
        const { name, version } = manifest;
        objectName = `${name}/${version}`;
        ctx.debug.write(
          `Found stemcell image '${objectName}', cloud properties are ${JSON.stringify(manifest.cloud_properties)}\n`,
        );

        const info = await deps.cloud.info({ signal: ctx.signal, log: ctx.cpi });
        checkCpiInfo(info);
        if (!stemcellFormatsMatch(info.stemcell_formats, manifest.stemcell_formats)) {
          throw new StemcellNotSupported(
            `uploaded stemcell with formats '${(manifest.stemcell_formats ?? []).join(', ')}' are not supported ` +
              `by CPI '${deps.cloud.name}' (it supports '${info.stemcell_formats.join(', ')}')`,
          );
        }
        const cpi = deps.cloud.name;
        const existing = await stage.task('Checking if this stemcell already exists', () =>
          store.find(name, version, cpi),
        );
        const upload = params.fix || existing === null;
        const skipped = upload ? '' : ' (already exists, skipped)';
        const cid = await stage.task(`Uploading stemcell ${objectName} to the cloud${skipped}`, async () => {
          if (!upload && existing) return existing.cid;
          const created = await deps.cloud.call(
            'create_stemcell',
            [contents.imagePath, manifest.cloud_properties],
            {
              signal: ctx.signal,
              log: ctx.cpi,
              ...(manifest.api_version === undefined ? {} : { stemcellApiVersion: manifest.api_version }),
            },
          );
          if (typeof created !== 'string' || created === '') {
            throw new DirectorError(
              CpiCallFailed.code,
              500,
              `CPI create_stemcell returned ${JSON.stringify(created)}, not a stemcell id`,
            );
          }
          ctx.debug.write(`Cloud created stemcell: ${created}\n`);
          return created;
        });
        await stage.task(`Save stemcell ${objectName} (${cid})${skipped}`, async () => {
          if (!upload) return;
          try {
            if (existing) {
              await store.replaceCid(existing.id, cid, manifest.sha1, manifest.api_version ?? null);
            } else {
              await store.insert({
                name,
                version,
                operatingSystem: manifest.operating_system ?? name,
                cpi,
                cid,
                sha1: manifest.sha1,
                apiVersion: manifest.api_version ?? null,
              });
            }
          } catch (error) {
            // Never leave a cloud stemcell no row points to.
            await deps.cloud
              .call('delete_stemcell', [cid], { signal: AbortSignal.timeout(60_000), log: ctx.cpi })
              .catch((cleanup: unknown) =>
                ctx.debug.write(`could not delete stemcell ${cid}: ${String(cleanup)}\n`),
              );
            if ((await store.find(name, version, cpi)) !== null) {
              throw new StemcellAlreadyExists(`Stemcell '${objectName}' already exists`, { cause: error });
            }
            throw error;
          }
        });
        await recordEvent(deps, ctx.user, ctx.taskId, objectName, null);
        return `/stemcells/${name}/${version}`;
      } catch (error) {
        await recordEvent(deps, ctx.user, ctx.taskId, objectName, (error as Error).message);
        throw error;
      } finally {
        await scratch.remove(params.scratchDir);
      }
    },
    async recover(params) {
      await scratch.remove(params.scratchDir);
    },
  };
}

async function recordEvent(
  deps: Deps,
  user: string,
  taskId: number,
  objectName: string | null,
  error: string | null,
): Promise<void> {
  await deps.events
    .record({ action: 'create', objectType: 'stemcell', objectName, user, task: taskId, error })
    .catch(() => undefined);
}
