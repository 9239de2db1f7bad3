import type { CpiMethodHandler } from '../context.ts';

/** The one stemcell format this CPI takes: `image` is a (gzipped) tar of a root tree. */
export const stemcellFormat = 'refit-local-tgz';

export const info: CpiMethodHandler = {
  method: 'info',
  run: () => Promise.resolve({ api_version: 2, stemcell_formats: [stemcellFormat] }),
};
