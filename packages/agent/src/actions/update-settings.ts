import { UpdateSettingsArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

/**
 * Records director-given settings. Blobstores take effect at once (the blobstore is built from
 * the settings at each use); an mbus change is persisted and used from the next agent start.
 */
export const updateSettings = defineAction({
  method: 'update_settings',
  mode: 'async',
  args: UpdateSettingsArgs,
  async run(ctx, [update]) {
    const changed = await ctx.settings.update(update);
    if (changed.mbusChanged) ctx.log.warn('update_settings changed mbus: used from the next agent start');
    return 'ok' as const;
  },
});
