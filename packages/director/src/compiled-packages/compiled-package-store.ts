import type { Readable } from 'node:stream';
import type { Blobstore } from '../blobstore/blobstore.ts';
import type { Db, Row } from '../db/db.ts';
import { deleteUnreferencedBlobs } from '../releases/blob-references.ts';
import {
  findCompiledPackage,
  type CompiledPackageKey,
  type CompiledPackageRecord,
} from './find-compiled-package.ts';

interface CompiledRow extends Row {
  id: number;
  package_name: string;
  package_fingerprint: string;
  dependency_key: string;
  stemcell_os: string;
  stemcell_version: string;
  build: number;
  sha1: string;
  blobstore_id: string;
}

const columns =
  'id, package_name, package_fingerprint, dependency_key, stemcell_os, stemcell_version, build, sha1, blobstore_id';

function toRecord(row: CompiledRow): CompiledPackageRecord {
  return {
    id: row.id,
    packageName: row.package_name,
    fingerprint: row.package_fingerprint,
    dependencyKey: row.dependency_key,
    stemcellOs: row.stemcell_os,
    stemcellVersion: row.stemcell_version,
    build: row.build,
    sha1: row.sha1,
    blobstoreId: row.blobstore_id,
  };
}

export interface NewCompiledPackage extends CompiledPackageKey {
  readonly packageName: string;
  /** The blob's digest as the agent will verify it (`sha1` hex or a multi-digest). */
  readonly sha1: string;
  readonly blobstoreId: string;
}

/**
 * The `compiled_packages` table: compiled package blobs keyed by package fingerprint,
 * dependency key, stemcell OS and stemcell version.
 */
export class CompiledPackageStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The compiled package a deploy can use (see `findCompiledPackage`), or null. */
  async find(want: CompiledPackageKey): Promise<CompiledPackageRecord | null> {
    const rows = await this.#db.query<CompiledRow>(
      `SELECT ${columns} FROM compiled_packages
       WHERE package_fingerprint = $1 AND dependency_key = $2 AND stemcell_os = $3`,
      [want.fingerprint, want.dependencyKey, want.stemcellOs],
    );
    return findCompiledPackage(rows.map(toRecord), want);
  }

  /** Every compiled package of these fingerprints (for `GET /releases/<n>?version=`). */
  async byFingerprints(fingerprints: readonly string[]): Promise<CompiledPackageRecord[]> {
    if (fingerprints.length === 0) return [];
    const placeholders = fingerprints.map((_, i) => `$${i + 1}`).join(', ');
    const rows = await this.#db.query<CompiledRow>(
      `SELECT ${columns} FROM compiled_packages WHERE package_fingerprint IN (${placeholders})
       ORDER BY stemcell_os, stemcell_version, id`,
      fingerprints,
    );
    return rows.map(toRecord);
  }

  /**
   * Records a compiled package whose blob is already in the blobstore. When the same key is
   * already stored (another compilation won the race) the stored row is kept and returned with
   * `inserted: false`: the caller then uses it and may drop its own blob.
   */
  async insert(entry: NewCompiledPackage): Promise<{ record: CompiledPackageRecord; inserted: boolean }> {
    return this.#db.transaction(async (tx) => {
      const existing = await exactRow(tx, entry);
      if (existing) return { record: toRecord(existing), inserted: false };
      const [next] = await tx.query<{ build: number | null }>(
        `SELECT MAX(build) AS build FROM compiled_packages
         WHERE package_fingerprint = $1 AND stemcell_os = $2 AND stemcell_version = $3`,
        [entry.fingerprint, entry.stemcellOs, entry.stemcellVersion],
      );
      const [row] = await tx.query<CompiledRow>(
        `INSERT INTO compiled_packages
         (package_name, package_fingerprint, dependency_key, stemcell_os, stemcell_version, build, sha1, blobstore_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${columns}`,
        [
          entry.packageName,
          entry.fingerprint,
          entry.dependencyKey,
          entry.stemcellOs,
          entry.stemcellVersion,
          Number(next?.build ?? 0) + 1,
          entry.sha1,
          entry.blobstoreId,
          new Date().toISOString(),
        ],
      );
      if (!row) throw new Error('INSERT INTO compiled_packages returned no row');
      return { record: toRecord(row), inserted: true };
    });
  }

  /** Removes the compiled packages of fingerprints no package row has any more; returns their blobs. */
  async deleteOrphans(tx: Db): Promise<string[]> {
    const rows = await tx.query<{ id: number; blobstore_id: string }>(
      `SELECT id, blobstore_id FROM compiled_packages c
       WHERE NOT EXISTS (SELECT 1 FROM packages p WHERE p.fingerprint = c.package_fingerprint)`,
    );
    for (const row of rows) await tx.execute('DELETE FROM compiled_packages WHERE id = $1', [row.id]);
    return rows.map((r) => r.blobstore_id);
  }
}

async function exactRow(db: Db, key: CompiledPackageKey): Promise<CompiledRow | null> {
  const [row] = await db.query<CompiledRow>(
    `SELECT ${columns} FROM compiled_packages WHERE package_fingerprint = $1 AND dependency_key = $2
     AND stemcell_os = $3 AND stemcell_version = $4`,
    [key.fingerprint, key.dependencyKey, key.stemcellOs, key.stemcellVersion],
  );
  return row ?? null;
}

export interface StoreCompiledPackageInput extends CompiledPackageKey {
  readonly packageName: string;
  /** The compiled package tgz (e.g. downloaded from the blob the agent's compile_package uploaded). */
  readonly source: Readable;
  readonly signal?: AbortSignal;
}

/**
 * Stores the result of compiling a package (the updater calls this after `compile_package`):
 * the tgz goes into the blobstore (content addressed), then a `compiled_packages` row names
 * it. Returns the record a deploy hands to agents (`blobstoreId`, `sha1`).
 */
export async function storeCompiledPackage(
  deps: { readonly db: Db; readonly blobstore: Blobstore },
  input: StoreCompiledPackageInput,
): Promise<CompiledPackageRecord> {
  const blob = await deps.blobstore.put(input.source, input.signal);
  const { record, inserted } = await new CompiledPackageStore(deps.db).insert({
    packageName: input.packageName,
    fingerprint: input.fingerprint,
    dependencyKey: input.dependencyKey,
    stemcellOs: input.stemcellOs,
    stemcellVersion: input.stemcellVersion,
    sha1: blob.sha1,
    blobstoreId: blob.id,
  });
  if (!inserted && record.blobstoreId !== blob.id) {
    await deleteUnreferencedBlobs(deps.db, deps.blobstore, [blob.id]);
  }
  return record;
}
