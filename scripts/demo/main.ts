// The main job (README's first command): the OS reload story on the embedded defaults.
// Director (+ nats-server) and health monitor → stemcells v1/v2 → refit CLI: uploads, cloud
// config, deploy 3 instances on v1 with persistent data → `deploy --strategy reload` to v2 →
// a table of what happened, data checksums verified → the director left running until Ctrl-C,
// which deletes the deployment and stops everything. `--no-wait` stops right after the table.
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { deleteLeftoverVms, mountsUnder, vmsOnHost } from './cleanup.ts';
import { cloudConfig, DEPLOYMENT, manifest, STEMCELL } from './deployment.ts';
import { alreadyUploaded, snapshot } from './director-view.ts';
import { assertPortFree, DemoError, startLogged, stopProcess, type Started } from './processes.ts';
import { RefitCli } from './refit-cli.ts';
import { debugFigures, renderReport, reportRows, timelines } from './reload-report.ts';
import { RELEASE, sampleRelease } from './sample-release.ts';

const exec = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: flags } = parseArgs({
  options: {
    'state-dir': { type: 'string', default: join(repo, '.state') },
    port: { type: 'string', default: '25555' },
    alias: { type: 'string', default: 'quick' },
    // Third octet of the VMs' addresses (z1: 127.0.N.0/24, z2: 127.0.N+1.0/24); the e2e takes
    // its own so it can run beside an operator's demo.
    net: { type: 'string', default: '80' },
    'no-wait': { type: 'boolean', default: false },
  },
});
const stateDir = resolve(flags['state-dir']);
if (!/^\d+$/.test(flags.port) || !/^\d+$/.test(flags.net) || Number(flags.net) > 254) {
  process.stderr.write(
    'usage: main.ts [--state-dir DIR] [--port N] [--alias NAME] [--net 0-254] [--no-wait]\n',
  );
  process.exit(2);
}
const port = Number(flags.port);
const alias = flags.alias;
const net = Number(flags.net);
const directorState = join(stateDir, 'director');
const work = join(stateDir, 'demo');
const logs = join(work, 'logs');
const cliLog = join(logs, 'cli.log');

let director: Started | undefined;
let hm: Started | undefined;
let cleaning: Promise<void> | undefined;
let firstSignalAt = 0;
let reloadTask: string | undefined;
const cli = new RefitCli({ bin: join(repo, 'packages/cli/bin/refit'), env: {}, log: cliLog });

const say = (text: string) => process.stdout.write(`${text}\n`);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stdout.write(`==> ${what} … `);
  try {
    const value = await fn();
    say(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return value;
  } catch (error) {
    say('FAILED');
    throw error;
  }
}

async function buildStemcell(version: string): Promise<string> {
  const out = join(work, `stemcell-${version}`);
  if (!((await exists(join(out, 'stemcell.tgz'))) && (await exists(join(out, 'rootfs.tgz'))))) {
    const bin = join(repo, 'packages/stemcell/bin/refit-stemcell');
    const args = ['build', '--name', STEMCELL.name, '--version', version, '--os', STEMCELL.os];
    await exec(bin, [...args, '--out', out, '--base', 'minimal'], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stderr?: string; message: string }) => {
        throw new DemoError(`refit-stemcell build ${version} failed: ${error.stderr ?? error.message}`);
      },
    );
  }
  return out;
}

async function startDirector(): Promise<string> {
  await assertPortFree(port);
  const started = await startLogged(
    join(repo, 'packages/director/bin/refit-director'),
    ['--state-dir', directorState, '--port', String(port)],
    {
      log: join(logs, 'director.log'),
      ready: /^director ready: https:\/\//,
      timeoutMs: 120_000,
      what: 'refit-director',
    },
  );
  director = started;
  return started.readyLine.replace(/^director ready: /, '').trim();
}

async function startHm(url: string): Promise<string> {
  const bin = join(repo, 'packages/hm/bin/refit-hm');
  if (!(await exists(bin))) return 'skipped (packages/hm/bin/refit-hm is not there)';
  try {
    hm = await startLogged(bin, ['--director-state-dir', directorState, '--director-url', url], {
      log: join(logs, 'hm.log'),
      ready: /"msg":"hm ready"/,
      timeoutMs: 30_000,
      what: 'refit-hm',
    });
    return 'running';
  } catch (error) {
    return `skipped: ${(error as Error).message} (log: ${join(logs, 'hm.log')})`;
  }
}

async function logIn(url: string): Promise<void> {
  const creds = JSON.parse(await readFile(join(directorState, 'credentials.json'), 'utf8')) as {
    client?: string;
    client_secret?: string;
  };
  await cli.ok(['alias-env', alias, '-e', url, '--ca-cert', join(directorState, 'ca.pem')]);
  const login = new RefitCli({
    bin: join(repo, 'packages/cli/bin/refit'),
    env: { BOSH_CLIENT: creds.client ?? 'admin', BOSH_CLIENT_SECRET: creds.client_secret ?? '' },
    log: cliLog,
  });
  await login.ok(['-e', alias, 'log-in']);
}

async function reloadStory(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new DemoError(
      'the local CPI runs VMs as Linux namespaces: run this as root (sudo ./scripts/quickstart)',
    );
  }
  const url = await step(
    `starting refit-director (state ${directorState}, 127.0.0.1:${port})`,
    startDirector,
  );
  say(`    ${url} (nats-server embedded; log ${join(logs, 'director.log')})`);
  const hmState = await step('starting refit-hm (health monitor)', () => startHm(url));
  say(`    health monitor: ${hmState}`);
  const v1 = await step(`building stemcell ${STEMCELL.name}/${STEMCELL.v1} (IaaS + generic)`, () =>
    buildStemcell(STEMCELL.v1),
  );
  const v2 = await step(`building stemcell ${STEMCELL.name}/${STEMCELL.v2} (IaaS + generic)`, () =>
    buildStemcell(STEMCELL.v2),
  );
  await step(`refit alias-env ${alias} + log-in`, () => logIn(url));
  const e = ['-e', alias];
  const uploaded = await step('checking what the director already has', () => alreadyUploaded(cli, e));
  const missing = (kind: string, version: string) => !uploaded.has(`${kind} ${version}`);
  const uploads = [
    ...(missing('stemcell', STEMCELL.v1) ? [['upload-stemcell', join(v1, 'stemcell.tgz')]] : []),
    ...(missing('stemcell', STEMCELL.v2) ? [['upload-stemcell', join(v2, 'stemcell.tgz')]] : []),
    ...(missing('rootfs', STEMCELL.v2) ? [['upload-rootfs', join(v2, 'rootfs.tgz')]] : []),
  ];
  const releasePath = join(work, `${RELEASE.name}-${RELEASE.version}.tgz`);
  if (missing('release', RELEASE.version)) {
    await writeFile(releasePath, await sampleRelease());
    uploads.push(['upload-release', releasePath]);
  }
  const skipped = [...uploaded].sort();
  if (skipped.length > 0) say(`    already uploaded, skipped: ${skipped.join(', ')}`);
  for (const [command, path] of uploads) {
    await step(`refit ${command} ${basename(dirname(path!))}/${basename(path!)}`, () =>
      cli.ok([...e, command!, path!]),
    );
  }
  await step(`update-cloud-config (2 AZs, 127.0.${net}.0/24 and 127.0.${net + 1}.0/24)`, async () => {
    const path = join(work, 'cloud-config.yml');
    await writeFile(path, cloudConfig(net));
    await cli.ok([...e, '-n', 'update-cloud-config', path]);
  });
  const m1 = join(work, `manifest-${STEMCELL.v1}.yml`);
  const m2 = join(work, `manifest-${STEMCELL.v2}.yml`);
  await writeFile(m1, manifest(STEMCELL.v1));
  await writeFile(m2, manifest(STEMCELL.v2));
  await step(
    `deploying ${DEPLOYMENT}: 3 instances of web on ${STEMCELL.v1}, each with a persistent disk`,
    () => cli.ok([...e, '-n', '-d', DEPLOYMENT, 'deploy', m1], 900_000),
  );
  const before = await step('reading VMs and checksums of the data on each persistent disk', async () => {
    const shot = await snapshot(cli, ['-e', alias], directorState);
    const missing = [...shot].filter(([, s]) => s.dataSha256 === null).map(([i]) => i);
    if (shot.size !== 3 || missing.length > 0) {
      throw new DemoError(
        `expected 3 instances with data on their disks; got ${shot.size}, missing data: ${missing.join(', ')}`,
      );
    }
    return shot;
  });
  const plan = await step(
    `planning the reload to ${STEMCELL.v2} (deploy --dry-run --strategy reload)`,
    async () => {
      const rows = await cli.rows([
        ...e,
        '-n',
        '-d',
        DEPLOYMENT,
        'deploy',
        m2,
        '--strategy',
        'reload',
        '--dry-run',
      ]);
      return new Map(
        rows.map((r) => [
          (r['instance'] ?? '').split(' ')[0] ?? '',
          { strategy: r['strategy'] ?? '', download: r['download'] ?? '', reason: r['reason'] ?? '' },
        ]),
      );
    },
  );
  for (const [instance, p] of plan)
    say(`    ${instance}: ${p.strategy} (${p.reason}) download ${p.download}`);
  const reload = await step(`reloading to ${STEMCELL.v2}: refit deploy --strategy reload`, async () => {
    const started = Date.now();
    const run = await cli.run(
      [...e, '--tty', '-n', '-d', DEPLOYMENT, 'deploy', m2, '--strategy', 'reload'],
      900_000,
    );
    const task = /Task (\d+)/.exec(run.stdout)?.[1];
    if (run.code !== 0) {
      const tail = `${run.stdout}${run.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new DemoError(
        `refit deploy --strategy reload failed:\n${tail}` +
          (task ? `\n  see: refit -e ${alias} task ${task} --debug` : ''),
        [cliLog, join(logs, 'director.log')],
      );
    }
    if (task === undefined) throw new DemoError('no task id in the reload output', [cliLog]);
    reloadTask = task;
    return { task, seconds: (Date.now() - started) / 1000 };
  });
  const after = await snapshot(cli, ['-e', alias], directorState);
  const events = (await cli.ok([...e, 'task', reload.task, '--event'])).stdout;
  const debug = (await cli.ok([...e, 'task', reload.task, '--debug'])).stdout;
  const rows = reportRows({ before, after, plan, events: timelines(events), debug: debugFigures(debug) });
  say('');
  say(
    `What happened (task ${reload.task}, ${reload.seconds.toFixed(1)} s in all; downtime = drain start → jobs running, from the task's debug log):`,
  );
  say('');
  say(renderReport(rows));
  say('');
  const changed = rows.filter((r) => !r.dataIntact).map((r) => r.instance);
  const notOnV2 = rows.filter((r) => !r.stemcellAfter.endsWith(`/${STEMCELL.v2}`)).map((r) => r.instance);
  const newVm = rows.filter((r) => r.cidAfter !== r.cidBefore).map((r) => r.instance);
  if (changed.length > 0) throw new DemoError(`persistent data changed on: ${changed.join(', ')}`);
  if (notOnV2.length > 0)
    throw new DemoError(`not on ${STEMCELL.v2} after the reload: ${notOnV2.join(', ')}`);
  say(`Persistent data: ${rows.length} of ${rows.length} checksums identical before and after.`);
  say(newVm.length === 0 ? 'Every VM kept its CID.' : `New VMs (recreated): ${newVm.join(', ')}`);
  const disk = (await cli.rows([...e, '-d', DEPLOYMENT, 'instances', '--details']))[0]?.['disk_cids']?.split(
    '\n',
  )[0];
  if (disk) {
    const history = await readFile(
      join(directorState, 'cpi-local/state/disks', disk, 'data/web/history'),
      'utf8',
    );
    say(`A persistent disk's history file (the job appends the OS from /etc/os-release at each start):`);
    for (const line of history.trim().split('\n').slice(-2)) say(`    ${line}`);
  }
}

function explore(reloadTask: string | undefined): void {
  const bin = join(repo, 'packages/cli/bin');
  say('');
  say(`The director keeps running: ${`https://127.0.0.1:${port}`} (state ${directorState}, logs ${logs}).`);
  say('Explore it from another shell:');
  say(`    export PATH=${bin}:$PATH`);
  say(`    refit -e ${alias} -d ${DEPLOYMENT} vms`);
  say(`    refit -e ${alias} -d ${DEPLOYMENT} instances --details`);
  say(`    refit -e ${alias} stemcells`);
  say(`    refit -e ${alias} tasks --recent`);
  say(
    reloadTask === undefined
      ? `    refit -e ${alias} task N --debug      # N from tasks --recent; --event, --cpi too`
      : `    refit -e ${alias} task ${reloadTask} --debug      # the reload task; --event, --cpi too`,
  );
  say('Press Ctrl-C here to delete the deployment and stop the director, health monitor and all VMs.');
}

/** As in BOSH, delete-deployment orphans the persistent disks: the demo deletes its own. */
async function deleteOrphanedDisks(): Promise<void> {
  const listed = await cli.run(['-e', alias, '--json', 'disks', '--orphaned']);
  const rows =
    listed.code === 0
      ? ((JSON.parse(listed.stdout) as { Tables: { Rows: Record<string, string>[] }[] | null }).Tables?.[0]
          ?.Rows ?? [])
      : [];
  const ours = rows.filter((r) => r.deployment === DEPLOYMENT).map((r) => r.disk_cid ?? '');
  for (const cid of ours) {
    if ((await cli.run(['-e', alias, '-n', 'delete-disk', cid], 120_000)).code !== 0)
      say(`    could not delete orphaned disk ${cid} (see ${cliLog})`);
  }
  if (listed.code !== 0) say(`    could not list orphaned disks (see ${cliLog})`);
}

async function cleanup(): Promise<void> {
  if (!director && !hm && (await vmsOnHost(directorState)).length === 0) return;
  say('');
  say('==> stopping: delete-deployment, its orphaned disks, refit-hm, refit-director, leftover VMs');
  if (director && director.child.exitCode === null) {
    const deleted = await cli.run(
      ['-e', alias, '-n', '-d', DEPLOYMENT, 'delete-deployment', '--force'],
      300_000,
    );
    if (deleted.code !== 0)
      say(`    delete-deployment failed (see ${cliLog}); deleting the VMs through the CPI`);
    else await deleteOrphanedDisks();
  }
  if (hm) await stopProcess(hm, 15_000);
  if (director) await stopProcess(director, 30_000);
  const failed = await deleteLeftoverVms({ repo, directorState });
  const vms = await vmsOnHost(directorState);
  const mounts = await mountsUnder(stateDir);
  for (const f of failed) say(`    could not delete VM ${f}`);
  if (mounts.length > 0) say(`    mounts left under ${stateDir}:\n      ${mounts.join('\n      ')}`);
  say(`    stopped; ${vms.length} VM(s) and ${mounts.length} mount(s) left on the host`);
  if (vms.length > 0 || mounts.length > 0) process.exitCode = 1;
}

function onSignal(signal: NodeJS.Signals): void {
  if (cleaning) {
    // The terminal's Ctrl-C reaches npm too, which forwards it: only a later one is news.
    if (Date.now() - firstSignalAt > 2000) say(`(${signal}: still stopping, please wait)`);
    return;
  }
  firstSignalAt = Date.now();
  cleaning = cleanup().finally(() => process.exit(process.exitCode ?? 0));
}

async function main(): Promise<void> {
  await mkdir(logs, { recursive: true });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = false;
  try {
    await reloadStory();
  } catch (error) {
    failed = true;
    if (cleaning) return;
    say('');
    say(`FAILED: ${(error as Error).message}`);
    const seen = error instanceof DemoError ? error.logs : [];
    const candidates = [...new Set([...seen, cliLog, join(logs, 'director.log'), join(logs, 'hm.log')])];
    const present = (await Promise.all(candidates.map(async (l) => ((await exists(l)) ? l : null)))).filter(
      (l) => l !== null,
    );
    if (present.length > 0) say(`Logs: ${present.join(', ')}`);
    process.exitCode = 1;
  }
  if (cleaning) return;
  if (flags['no-wait'] || !director || director.child.exitCode !== null) {
    cleaning = cleanup();
    await cleaning;
    if (failed) process.exitCode = 1;
    return;
  }
  explore(reloadTask);
  // Stay up until a signal; the director exiting on its own ends the demo too.
  await director.exited;
  if (!cleaning) {
    say(`refit-director exited on its own (log ${join(logs, 'director.log')})`);
    cleaning = cleanup();
    await cleaning;
    process.exitCode = 1;
  }
}

await main();
