import { z } from 'zod';
import type { Command } from '../command.ts';
import { aliasEnvironment } from '../config/config-file.ts';
import { getInfo } from '../director-client/info.ts';
import { CliError } from '../errors.ts';
import { result, tableItem } from '../output.ts';
import { onePositional } from './arg-schema.ts';
import { infoTable } from './info-table.ts';

/** `refit alias-env ALIAS -e URL [--ca-cert CA]`: checks the director answers, then stores the alias. */
export const aliasEnv: Command<{ alias: string }> = {
  name: 'alias-env',
  summary: 'Alias environment to save URL and CA certificate',
  usage: 'ALIAS',
  flags: [],
  args: z
    .object({ positionals: onePositional('ALIAS') })
    .transform(({ positionals }) => ({ alias: positionals })),
  async run(deps, { alias }, signal) {
    if (deps.globals.environment === undefined) {
      throw new CliError('usage', 'Expected non-empty Director URL: give it with -e URL');
    }
    const url = deps.session.environmentUrl();
    const caCert = await deps.session.caCert();
    const client = await deps.session.directorWith(deps.session.credentials);
    const info = await getInfo(client, signal);
    const config = await deps.config.load();
    await deps.config.save(
      aliasEnvironment(config, { alias, url, ...(caCert === undefined ? {} : { caCert }) }),
    );
    return result(tableItem(infoTable(info)));
  },
};
