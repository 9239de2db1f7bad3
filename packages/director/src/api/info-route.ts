import type { Info } from '@refit/protocol';
import type { Route } from './route.ts';

export interface InfoOptions {
  readonly name: string;
  readonly uuid: string;
  readonly version: string;
  readonly cpi: string;
}

/** `GET /info` (reference §1.4): the one route without auth; `user` only for valid credentials. */
export function infoRoute(options: InfoOptions): Route {
  return {
    method: 'GET',
    path: '/info',
    auth: false,
    handle(request) {
      const body: Info = {
        name: options.name,
        uuid: options.uuid,
        version: options.version,
        user: request.user === '' ? null : request.user,
        cpi: options.cpi,
        stemcell_os: '',
        stemcell_version: '',
        user_authentication: { type: 'basic', options: {} },
        features: {
          local_dns: { status: false, extras: { domain_name: 'bosh' } },
          snapshots: { status: false },
          config_server: { status: false, extras: { urls: [] } },
        },
      };
      return Promise.resolve({ kind: 'json', body });
    },
  };
}
