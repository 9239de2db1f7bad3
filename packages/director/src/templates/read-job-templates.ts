import type { Readable } from 'node:stream';
import { ArchiveError, EntryChecker, openTar } from '@refit/archive';
import type { Blobstore } from '../blobstore/blobstore.ts';
import { BugError } from '../errors.ts';

export interface JobTemplateFiles {
  /** Source path under `templates/` → content. */
  readonly templates: ReadonlyMap<string, string>;
  readonly monit: string;
}

const MAX_TEMPLATE_BYTES = 8 * 1024 * 1024;

/**
 * The ERB sources and monit file of a job tarball (`jobs/<name>.tgz`, as stored in the
 * blobstore by a release upload), read in one streamed pass: the inputs `renderJobTemplates`
 * takes. Entries are checked against the hostile-entry policy again (the blob was checked at
 * upload; this keeps the reader safe on its own).
 */
export async function readJobTemplates(source: Readable, signal?: AbortSignal): Promise<JobTemplateFiles> {
  const templates = new Map<string, string>();
  let monit: string | null = null;
  const checker = new EntryChecker({ absoluteSymlinks: 'refuse' });
  try {
    for await (const entry of openTar(source, signal ? { signal } : {})) {
      const checked = checker.check(entry.header);
      if (checked.type !== 'file' && checked.type !== 'contiguous-file') continue;
      const isTemplate = checked.path.startsWith('templates/');
      if (!isTemplate && checked.path !== 'monit') continue;
      if (entry.header.size > MAX_TEMPLATE_BYTES) {
        throw new BugError(`job template '${checked.path}' is larger than ${MAX_TEMPLATE_BYTES} bytes`);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry.body as AsyncIterable<Buffer>) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      if (isTemplate) templates.set(checked.path.slice('templates/'.length), text);
      else monit = text;
    }
  } catch (error) {
    if (error instanceof ArchiveError)
      throw new BugError(`stored job archive is unreadable: ${error.message}`, { cause: error });
    throw error;
  }
  return { templates, monit: monit ?? '' };
}

/** `readJobTemplates` of a job blob in the blobstore. */
export async function readJobTemplatesFromBlob(
  blobstore: Blobstore,
  blobstoreId: string,
  signal?: AbortSignal,
): Promise<JobTemplateFiles> {
  return readJobTemplates(await blobstore.get(blobstoreId), signal);
}
