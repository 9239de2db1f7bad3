import type { BlobstoreSettings } from '@refit/protocol';
import type { Feature } from '../feature.ts';
import type { AgentBlobCredentials } from './agent-blob-credentials.ts';
import { agentBlobNamesMigration } from './agent-blob-names.ts';
import { getAgentBlobRoute, putAgentBlobRoute } from './agent-blob-routes.ts';

/**
 * Blobs for agents over the director's own HTTPS: BOSH's `dav` protocol at `/blobs`, with the
 * agents' user (see README "Blobs for agents"). main.ts lists it with the credentials it loaded.
 */
export function blobsForAgentsFeature(credentials: AgentBlobCredentials): Feature {
  return {
    name: 'blobs-for-agents',
    migrations: [agentBlobNamesMigration],
    routes: (deps) => [
      getAgentBlobRoute({ db: deps.db, blobstore: deps.blobstore, credentials }),
      putAgentBlobRoute({ db: deps.db, blobstore: deps.blobstore, credentials }),
    ],
    taskHandlers: () => [],
  };
}

/** The blobstore settings agents get (CPI config → VM settings): dav at the director, its CA. */
export function agentBlobstoreSettings(options: {
  readonly port: number;
  readonly credentials: AgentBlobCredentials;
  readonly caPem: string;
}): BlobstoreSettings {
  return {
    provider: 'dav',
    options: {
      endpoint: `https://127.0.0.1:${options.port}/blobs`,
      user: options.credentials.user,
      password: options.credentials.password,
      tls: { cert: { ca: options.caPem } },
    },
  };
}
