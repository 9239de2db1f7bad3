import type { CpiInfo } from '@refit/protocol';
import { CpiCallError, CpiFailureKind } from './cpi-call-error.ts';

/** The oldest CPI API version the director speaks (reference §2.1). */
export const MIN_CPI_API_VERSION = 2;

/**
 * Refuses a CPI whose `info` lacks `api_version` or reports one below 2, as the Ruby director
 * does. Throws a `CpiCallError` of kind `unsupported`; returns the CPI's api_version otherwise.
 */
export function checkCpiInfo(info: CpiInfo, cpiName = ''): number {
  const which = cpiName === '' ? 'CPI' : `CPI '${cpiName}'`;
  if (info.api_version === undefined) {
    throw new CpiCallError(`${which} must report api_version via info (it reported none)`, {
      kind: CpiFailureKind.Unsupported,
      method: 'info',
      requestId: null,
    });
  }
  if (info.api_version < MIN_CPI_API_VERSION) {
    throw new CpiCallError(
      `${which} must report api_version via info: it reported ${info.api_version}, the director needs ${MIN_CPI_API_VERSION} or later`,
      { kind: CpiFailureKind.Unsupported, method: 'info', requestId: null },
    );
  }
  return info.api_version;
}

/**
 * Whether a stemcell can go to a CPI: true when the two lists share a format, or when either
 * side gives none (not enough information, as the Ruby director decides).
 */
export function stemcellFormatsMatch(
  cpiFormats: readonly string[] | undefined,
  manifestFormats: readonly string[] | undefined,
): boolean {
  if (cpiFormats === undefined || manifestFormats === undefined) return true;
  if (cpiFormats.length === 0 || manifestFormats.length === 0) return true;
  return manifestFormats.some((format) => cpiFormats.includes(format));
}
