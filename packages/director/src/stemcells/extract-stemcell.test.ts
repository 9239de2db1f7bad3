import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { StemcellInvalidArchive, StemcellInvalidImage, ValidationInvalidType } from '../errors.ts';
import { extractStemcell } from './extract-stemcell.ts';
import { file, stemcellTgz, type StemcellOptions } from './upload-fixtures.test-support.ts';

describe('extractStemcell', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-stemcell-extract-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function extract(options: StemcellOptions | Buffer) {
    n += 1;
    const path = join(dir, `s${n}.tgz`);
    await writeFile(path, Buffer.isBuffer(options) ? options : await stemcellTgz(options));
    const contents = await extractStemcell(path, join(dir, `out${n}`), AbortSignal.timeout(5000));
    return { contents, manifest: () => contents.readManifest() };
  }

  it('extracts the image and reads the manifest, gzip or plain tar', async () => {
    const { contents, manifest } = await extract({ image: 'IMAGE', version: '3.1' });
    assert.equal(manifest().version, '3.1');
    assert.equal(await readFile(contents.imagePath, 'utf8'), 'IMAGE');
    const plain = gunzipSync(await stemcellTgz({ version: '4' }));
    assert.equal((await extract(plain)).manifest().version, '4');
  });

  it('names what is missing or mistyped', async () => {
    assert.throws((await extract({ withoutManifest: true })).manifest, /Stemcell archive has no stemcell.MF/);
    assert.throws((await extract({ image: null })).manifest, StemcellInvalidImage);
    assert.throws(
      (await extract({ manifest: { name: 's', version: '1', sha1: 'x', stemcell_formats: 'general-tar' } }))
        .manifest,
      (e: unknown) =>
        e instanceof ValidationInvalidType && /'stemcell_formats' value \("general-tar"\)/.test(e.message),
    );
  });

  it('refuses hostile members and truncated archives', async () => {
    await assert.rejects(extract({ extra: [file('../../etc/cron.d/x', 'x')] }), StemcellInvalidArchive);
    await assert.rejects(
      extract({ extra: [{ header: { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 } }] }),
      /device files are not allowed/,
    );
    const good = await stemcellTgz();
    await assert.rejects(
      extract(good.subarray(0, good.length - 30)),
      /Extracting stemcell archive failed: truncated/,
    );
  });
});
