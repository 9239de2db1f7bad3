import { join } from 'node:path';

/**
 * Where the agent keeps things, all under a base directory that is `/` inside a VM and a temp
 * directory in tests. Names follow BOSH's layout under /var/vcap.
 */
export interface AgentPaths {
  readonly base: string;
  readonly vcap: string;
  readonly boshDir: string;
  /** The agent's own state on the ephemeral disk: it survives a root swap (OS reload). */
  readonly stateDir: string;
  readonly specFile: string;
  readonly settingsOverridesFile: string;
  readonly persistentDisksFile: string;
  readonly stoppedMarker: string;
  readonly dataDir: string;
  readonly dataJobs: string;
  readonly dataPackages: string;
  readonly dataTmp: string;
  readonly jobs: string;
  readonly packages: string;
  readonly sysLog: string;
  readonly sysRun: string;
  readonly store: string;
  readonly stemcellVersionFile: string;
  readonly stemcellNameFile: string;
  readonly operatingSystemFile: string;
  readonly osRelease: string;
  readonly compileDir: string;
}

export function agentPaths(base: string): AgentPaths {
  const vcap = join(base, 'var/vcap');
  const boshDir = join(vcap, 'bosh');
  const dataDir = join(vcap, 'data');
  const stateDir = join(dataDir, 'bosh');
  return {
    base,
    vcap,
    boshDir,
    stateDir,
    specFile: join(stateDir, 'spec.json'),
    settingsOverridesFile: join(stateDir, 'update_settings.json'),
    persistentDisksFile: join(stateDir, 'persistent_disks.json'),
    stoppedMarker: join(vcap, 'monit/stopped'),
    dataDir,
    dataJobs: join(dataDir, 'jobs'),
    dataPackages: join(dataDir, 'packages'),
    dataTmp: join(dataDir, 'tmp'),
    jobs: join(vcap, 'jobs'),
    packages: join(vcap, 'packages'),
    sysLog: join(vcap, 'sys/log'),
    sysRun: join(vcap, 'sys/run'),
    store: join(vcap, 'store'),
    stemcellVersionFile: join(boshDir, 'etc/stemcell_version'),
    stemcellNameFile: join(boshDir, 'etc/stemcell_name'),
    operatingSystemFile: join(boshDir, 'etc/operating_system'),
    osRelease: join(base, 'etc/os-release'),
    compileDir: join(dataDir, 'compile'),
  };
}
