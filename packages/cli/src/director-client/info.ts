import { InfoAsRead } from '@refit/protocol';
import type { DirectorClient } from './director-client.ts';

export interface DirectorInfo {
  readonly name: string;
  readonly uuid: string;
  readonly version: string;
  /** The authenticated user, when the request carried valid credentials. */
  readonly user: string | undefined;
  readonly cpi: string;
  readonly stemcellOs: string;
  readonly stemcellVersion: string;
  readonly authType: string;
  readonly features: Readonly<Record<string, boolean>>;
}

/** `GET /info`, with credentials when the client has some (so `user` says who we are). */
export async function getInfo(client: DirectorClient, signal: AbortSignal): Promise<DirectorInfo> {
  const info = await client.json('/info', InfoAsRead, signal);
  const features: Record<string, boolean> = {};
  for (const [name, feature] of Object.entries(info.features ?? {})) features[name] = feature.status === true;
  return {
    name: info.name ?? '',
    uuid: info.uuid ?? '',
    version: info.version ?? '',
    user: info.user === null || info.user === undefined || info.user === '' ? undefined : info.user,
    cpi: info.cpi ?? '',
    stemcellOs: info.stemcell_os ?? '',
    stemcellVersion: info.stemcell_version ?? '',
    authType: info.user_authentication?.type ?? 'basic',
    features,
  };
}
