import { textFile, type RootEntry } from './root-entry.ts';

export interface StemcellIdentity {
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
}

/**
 * The files that tell the agent which stemcell really booted: BOSH's stemcell files under
 * /var/vcap/bosh/etc, and (for roots the builder assembles itself) /etc/os-release.
 */
export function versionLayer(id: StemcellIdentity, options: { osRelease: boolean }): RootEntry[] {
  const entries = [
    textFile('var/vcap/bosh/etc/stemcell_name', `${id.name}\n`),
    textFile('var/vcap/bosh/etc/stemcell_version', `${id.version}\n`),
    textFile('var/vcap/bosh/etc/operating_system', `${id.operatingSystem}\n`),
  ];
  if (options.osRelease) {
    entries.push(
      textFile(
        'etc/os-release',
        [
          `NAME="Refit ${id.operatingSystem}"`,
          `ID=${id.operatingSystem}`,
          `VERSION_ID="${id.version}"`,
          `VERSION="${id.version}"`,
          `PRETTY_NAME="Refit ${id.operatingSystem} stemcell ${id.name} ${id.version}"`,
          `REFIT_STEMCELL_NAME="${id.name}"`,
          '',
        ].join('\n'),
      ),
    );
  }
  return entries;
}
