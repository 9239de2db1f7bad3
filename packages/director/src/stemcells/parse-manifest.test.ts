import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RootfsManifest, StemcellManifest } from '@refit/protocol';
import { StemcellInvalidArchive, ValidationInvalidType, ValidationMissingField } from '../errors.ts';
import { parseManifest } from './parse-manifest.ts';

const unreadable = (message: string) => new StemcellInvalidArchive(message);

describe('parseManifest', () => {
  it('reads a stemcell.MF, stringifying a numeric version', () => {
    const mf = parseManifest(
      StemcellManifest,
      'name: s\nversion: 621.70\nsha1: abc\n',
      'stemcell.MF',
      unreadable,
    );
    assert.equal(mf.version, '621.7');
    assert.deepEqual(mf.cloud_properties, {});
  });

  it('names every missing field', () => {
    assert.throws(
      () => parseManifest(StemcellManifest, 'version: "1"\n', 'stemcell.MF', unreadable),
      (error: unknown) =>
        error instanceof ValidationMissingField &&
        /Required property 'name' was not specified in stemcell.MF/.test(error.message) &&
        /Required property 'sha1' was not specified in stemcell.MF/.test(error.message),
    );
  });

  it('names a mistyped field with its value', () => {
    assert.throws(
      () =>
        parseManifest(
          StemcellManifest,
          'name: s\nversion: "1"\nsha1: x\ncloud_properties: [1]\n',
          'stemcell.MF',
          unreadable,
        ),
      (error: unknown) =>
        error instanceof ValidationInvalidType &&
        error.message === "Property 'cloud_properties' value ([1]) did not match the required type 'Hash'",
    );
  });

  it('names nested and unknown fields of a rootfs.MF', () => {
    const text = [
      'name: r',
      'version: "1"',
      'operating_system: ubuntu-noble',
      'api_version: 3',
      'root_archive: {path: root.tar, sha256: nothex}',
      'install: install',
      'colour: blue',
    ].join('\n');
    assert.throws(
      () => parseManifest(RootfsManifest, text, 'rootfs.MF', unreadable),
      (error: unknown) =>
        error instanceof ValidationInvalidType &&
        /Unknown property 'colour' in rootfs.MF/.test(error.message) &&
        /Property 'root_archive.sha256' value \("nothex"\) is invalid in rootfs.MF/.test(error.message),
    );
  });

  it('refuses YAML that does not parse, and a document that is not a mapping', () => {
    assert.throws(
      () => parseManifest(StemcellManifest, 'name: [', 'stemcell.MF', unreadable),
      StemcellInvalidArchive,
    );
    assert.throws(
      () => parseManifest(StemcellManifest, '- a\n- b\n', 'stemcell.MF', unreadable),
      /did not match the required type 'Hash'/,
    );
  });
});
