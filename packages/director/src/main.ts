import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpiLocalConfigWithAgentAccess, mbusUrl } from './agent-client/cpi-local-agent-config.ts';
import { NatsAgentClient } from './agent-client/nats-agent-client.ts';
import { createApiServer } from './api/api-server.ts';
import { loadOrCreateCredentials } from './api/credentials.ts';
import { infoRoute } from './api/info-route.ts';
import { loadOrCreateTlsMaterial } from './api/tls-material.ts';
import { loadOrCreateAgentBlobCredentials } from './blobs-for-agents/agent-blob-credentials.ts';
import {
  agentBlobstoreSettings,
  blobsForAgentsFeature,
} from './blobs-for-agents/blobs-for-agents-feature.ts';
import { LocalDirBlobstore } from './blobstore/local-dir-blobstore.ts';
import {
  ConfigError,
  loadDirectorConfig,
  parseCommandLine,
  type DirectorConfig,
} from './config/director-config.ts';
import { createDirectorLog, type DirectorLog } from './config/director-log.ts';
import { cleanupFeature } from './cleanup/index.ts';
import { cloudCheckFeature } from './cloud-check/index.ts';
import { configsFeature } from './configs/configs-feature.ts';
import { ExternalProcessCloud } from './cpi-client/external-process-cloud.ts';
import { coreMigration } from './db/core-migration.ts';
import { directorUuid } from './db/director-meta.ts';
import { runMigrations } from './db/migrate.ts';
import { openDb } from './db/open-db.ts';
import { deploymentsFeature } from './deployments/index.ts';
import { disksFeature } from './disks/index.ts';
import { errandsFeature } from './errands/index.ts';
import { DbEventRecorder } from './events/db-event-recorder.ts';
import { eventsFeature } from './events/events-feature.ts';
import type { DirectorDeps, Feature } from './feature.ts';
import { locksFeature } from './locks/locks-feature.ts';
import { startNats } from './nats/start-nats.ts';
import { AgentNatsUserStore, agentNatsUsersMigration } from './nats/agent-nats-users.ts';
import { AgentCredentialsCloud } from './cpi-client/agent-credentials-cloud.ts';
import { releasesFeature } from './releases/index.ts';
import { createRootfsFeature, digestsOnly, rootfsTrust } from './rootfs/index.ts';
import { stemcellsFeature } from './stemcells/index.ts';
import { RequestContextStore } from './tasks/request-context.ts';
import { TaskRunner } from './tasks/task-runner.ts';
import { taskRoutes } from './tasks/task-routes.ts';
import { TaskStore } from './tasks/task-store.ts';
import { testTaskFeature } from './tasks/test-task-feature.ts';

export const DIRECTOR_VERSION = '0.1.0 (00000000)';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The director's slices beside the task API, in migration order. */
function directorFeatures(
  env: NodeJS.ProcessEnv,
  vms: readonly Feature[],
  rootfs: DirectorConfig['rootfs'],
): Feature[] {
  const core: Feature[] = [configsFeature, eventsFeature, locksFeature];
  // GET /stemcells reads the rootfs table: both always listed together (migrations 002, 003).
  const rootfsFeature = createRootfsFeature(rootfs === undefined ? digestsOnly : rootfsTrust(rootfs));
  const artifacts: Feature[] = [stemcellsFeature, rootfsFeature, releasesFeature];
  // TEST ONLY: long-running tasks for the end-to-end tests (see test-task-feature.ts).
  const testOnly: Feature[] = env.REFIT_DIRECTOR_TEST_TASKS === '1' ? [testTaskFeature] : [];
  return [...core, ...artifacts, ...vms, ...testOnly];
}

async function start(config: DirectorConfig, log: DirectorLog): Promise<() => Promise<void>> {
  const { stateDir } = config;
  const tmpDir = join(stateDir, 'tmp');
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });

  const db = openDb({ url: config.dbUrl, stateDir });
  // Agents' own credentials for /blobs (never the admin's).
  const agentBlobCredentials = await loadOrCreateAgentBlobCredentials(
    join(stateDir, 'blobs-for-agents', 'credentials.json'),
  );
  const features = directorFeatures(
    process.env,
    [
      blobsForAgentsFeature(agentBlobCredentials),
      deploymentsFeature({ agents: () => agents }, config.orphanedVmCleanup),
      disksFeature({ agents: () => agents }, config.orphanedDiskCleanup),
      errandsFeature({ agents: () => agents }),
      cloudCheckFeature({
        agents: () => agents,
        autoFixStatefulNodes: config.scanAndFix.autoFixStatefulNodes,
      }),
      cleanupFeature,
    ],
    config.rootfs,
  );
  await runMigrations(db, [
    coreMigration,
    agentNatsUsersMigration,
    ...features.flatMap((feature) => feature.migrations),
  ]);
  const uuid = await directorUuid(db);

  const tls = await loadOrCreateTlsMaterial(stateDir);
  // The bus before the ready line: nats-server (embedded, supervised) or the configured NATS.
  const nats = await startNats(
    config.nats ?? { kind: 'embedded', port: null, executable: null },
    stateDir,
    log,
    new AgentNatsUserStore(db),
  );
  const generated = config.cpi.generatedConfig;
  if (generated !== null) {
    await mkdir(dirname(generated.path), { recursive: true, mode: 0o700 });
    // Rewritten at every start so the agents' NATS URL and blobstore access stay true.
    const access = {
      mbus: mbusUrl(nats.endpoint.url, nats.endpoint.agents.user, nats.endpoint.agents.password),
      blobstore: agentBlobstoreSettings({
        port: config.port,
        credentials: agentBlobCredentials,
        caPem: tls.caPem,
      }),
    };
    await writeFile(generated.path, cpiLocalConfigWithAgentAccess(generated.text, access), { mode: 0o600 });
  }
  // TODO(updater): hand it to the features as DirectorDeps.agents (feature.ts is the lead's).
  const agents = await NatsAgentClient.connect({
    url: nats.endpoint.url,
    user: nats.endpoint.director.user,
    password: nats.endpoint.director.password,
    log,
    ...config.agent,
  });
  const blobstore = new LocalDirBlobstore(config.blobstoreDir);
  await blobstore.start();
  const processCloud = new ExternalProcessCloud({
    name: config.cpi.name,
    command: config.cpi.executable,
    args: config.cpi.args,
    timeoutMs: config.cpi.timeoutMs,
    directorUuid: uuid,
  });
  // Every create_vm gets its agent's own NATS user (embedded NATS); an existing NATS: shared user.
  const cloud =
    nats.agentCredentials === null
      ? processCloud
      : new AgentCredentialsCloud(processCloud, nats.agentCredentials);
  const requests = new RequestContextStore();
  const runner = new TaskRunner({
    store: new TaskStore(db),
    stateDir,
    workers: config.workers,
    runnerId: `${hostname()}:${stateDir}`,
    log,
    requests,
  });
  const deps: DirectorDeps = {
    db,
    tasks: runner,
    blobstore,
    cloud,
    events: new DbEventRecorder(db),
    stateDir,
    tmpDir,
    directorUuid: uuid,
    directorName: config.name,
  };
  runner.register(features.flatMap((feature) => feature.taskHandlers(deps)));
  const recovered = await runner.recoverInterrupted();
  if (recovered.length > 0)
    log.warn('tasks interrupted by the last stop marked error', { tasks: recovered.join(',') });
  for (const feature of features) await feature.startup?.(deps);

  const routes = [
    infoRoute({ name: config.name, uuid, version: DIRECTOR_VERSION, cpi: config.cpi.name }),
    ...taskRoutes(runner, stateDir),
    ...features.flatMap((feature) => feature.routes(deps)),
  ];
  const server = createApiServer({
    routes,
    tls,
    credentials: await loadOrCreateCredentials(stateDir),
    log,
    requests,
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  runner.start();
  log.info('director serving', { port: config.port, db: db.dialect, cpi: config.cpi.name, uuid });

  return async () => {
    const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    server.closeIdleConnections();
    await runner.stop();
    server.closeAllConnections();
    await closed;
    await agents.close();
    await nats.stop();
    await db.close();
  };
}

async function main(argv: readonly string[]): Promise<void> {
  let config: DirectorConfig;
  try {
    config = await loadDirectorConfig(parseCommandLine(argv), repoRoot);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`refit-director: ${error.message}\n`);
    process.exit(2);
  }
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  const log = createDirectorLog({
    file: join(config.stateDir, 'director.log'),
    level: config.logLevel,
    stderr: true,
  });
  let stop: () => Promise<void>;
  try {
    stop = await start(config, log);
  } catch (error) {
    log.error('director failed to start', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  console.log(`director ready: https://127.0.0.1:${config.port}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('director stopping', { signal });
    stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error('director stop failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main(process.argv.slice(2));
