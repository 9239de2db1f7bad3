import type { Db, Migration } from '../db/db.ts';

/**
 * Names agents gave blobs they uploaded. The blobstore is content addressed (id = sha256), but
 * BOSH's dav protocol lets the uploader pick the id: refit-agent PUTs compiled packages and logs
 * under a random UUID and reports that UUID as `blobstore_id`. This table maps such a name to
 * the content's blob id, so the agent (and other agents) can GET it by name and the director can
 * turn a `compile_package` answer into a blobstore id (`resolveAgentBlob`).
 */
export const agentBlobNamesMigration: Migration = {
  id: '005-agent-blob-names',
  up: () => [
    `CREATE TABLE agent_blob_names (
      name TEXT PRIMARY KEY,
      blob_id TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    `CREATE INDEX agent_blob_names_blob ON agent_blob_names (blob_id)`,
  ],
};

/** A sha256 hex: the blobstore's own ids. */
export const BLOB_ID = /^[0-9a-f]{64}$/;
/** What an agent may name a blob: the dav path segment refit-agent and BOSH agents use. */
export const BLOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The blobstore id an agent's `blobstore_id` stands for: itself when it is a sha256 id, the
 * recorded content for a name an agent uploaded under, else null.
 */
export async function resolveAgentBlob(db: Db, id: string): Promise<string | null> {
  if (BLOB_ID.test(id)) return id;
  const rows = await db.query<{ blob_id: string }>('SELECT blob_id FROM agent_blob_names WHERE name = $1', [
    id,
  ]);
  return rows[0]?.blob_id ?? null;
}

/** Records (or replaces: dav PUT overwrites) what `name` stands for. */
export async function recordAgentBlobName(db: Db, name: string, blobId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute('DELETE FROM agent_blob_names WHERE name = $1', [name]);
    await tx.execute('INSERT INTO agent_blob_names (name, blob_id, created_at) VALUES ($1, $2, $3)', [
      name,
      blobId,
      new Date().toISOString(),
    ]);
  });
}
