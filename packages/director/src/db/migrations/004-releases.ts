import type { Migration } from '../db.ts';
import { idColumn } from '../migrate.ts';

/**
 * Releases (reference §1.6), in BOSH's shape: a release has versions; packages and jobs
 * (`templates`, BOSH's name) belong to the release and are shared by the versions that list
 * them (the `release_version_*` link tables). Blobs are content addressed: several rows may
 * name the same `blobstore_id`, and a blob is deleted only when no row names it any more.
 *
 * `compiled_packages` is the compiled package store: one row per package fingerprint,
 * dependency key (BOSH's `dependency_key`, JSON), stemcell OS and stemcell version. Compiled
 * releases fill it at upload; the deploy work fills it after compiling on a compilation VM.
 *
 * `release_version_usages` says which deployments use which release version. The releases
 * feature only reads it (`currently_deployed` in `GET /releases`, and the "still in use" check
 * of a delete); the deploy feature writes one row per (release version, deployment) when a
 * deployment starts using a release version and removes it when it stops.
 */
export const releasesMigration: Migration = {
  id: '004-releases',
  up: (dialect) => [
    `CREATE TABLE releases (
      ${idColumn(dialect)},
      name TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE release_versions (
      ${idColumn(dialect)},
      release_id BIGINT NOT NULL,
      version TEXT NOT NULL,
      commit_hash TEXT,
      uncommitted_changes INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (release_id, version)
    )`,
    `CREATE TABLE packages (
      ${idColumn(dialect)},
      release_id BIGINT NOT NULL,
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      sha1 TEXT,
      blobstore_id TEXT,
      dependencies TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (release_id, name, version)
    )`,
    `CREATE INDEX packages_fingerprint ON packages (fingerprint)`,
    `CREATE INDEX packages_blob ON packages (blobstore_id)`,
    `CREATE TABLE templates (
      ${idColumn(dialect)},
      release_id BIGINT NOT NULL,
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      sha1 TEXT NOT NULL,
      blobstore_id TEXT NOT NULL,
      package_names TEXT NOT NULL,
      spec TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (release_id, name, version)
    )`,
    `CREATE INDEX templates_blob ON templates (blobstore_id)`,
    `CREATE TABLE release_version_packages (
      release_version_id BIGINT NOT NULL,
      package_id BIGINT NOT NULL,
      PRIMARY KEY (release_version_id, package_id)
    )`,
    `CREATE TABLE release_version_templates (
      release_version_id BIGINT NOT NULL,
      template_id BIGINT NOT NULL,
      PRIMARY KEY (release_version_id, template_id)
    )`,
    `CREATE TABLE compiled_packages (
      ${idColumn(dialect)},
      package_name TEXT NOT NULL,
      package_fingerprint TEXT NOT NULL,
      dependency_key TEXT NOT NULL,
      stemcell_os TEXT NOT NULL,
      stemcell_version TEXT NOT NULL,
      build INTEGER NOT NULL,
      sha1 TEXT NOT NULL,
      blobstore_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (package_fingerprint, dependency_key, stemcell_os, stemcell_version)
    )`,
    `CREATE INDEX compiled_packages_blob ON compiled_packages (blobstore_id)`,
    `CREATE TABLE release_version_usages (
      release_version_id BIGINT NOT NULL,
      deployment TEXT NOT NULL,
      PRIMARY KEY (release_version_id, deployment)
    )`,
  ],
};
