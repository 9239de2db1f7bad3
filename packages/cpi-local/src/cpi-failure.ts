import { CpiErrorType } from '@refit/protocol';

/** A failure reported to the director as `{"error":{"type",...}}` (reference §2.1). */
export class CpiFailure extends Error {
  override name = 'CpiFailure';
  readonly type: CpiErrorType;
  readonly okToRetry: boolean;
  constructor(type: CpiErrorType, message: string, options?: ErrorOptions & { okToRetry?: boolean }) {
    super(message, options);
    this.type = type;
    this.okToRetry = options?.okToRetry ?? false;
  }
  static cloud(message: string, options?: ErrorOptions): CpiFailure {
    return new CpiFailure(CpiErrorType.CloudError, message, options);
  }
  static vmNotFound(vmCid: string): CpiFailure {
    return new CpiFailure(CpiErrorType.VMNotFound, `VM '${vmCid}' not found`);
  }
  static diskNotFound(diskCid: string): CpiFailure {
    return new CpiFailure(CpiErrorType.DiskNotFound, `disk '${diskCid}' not found`);
  }
  static notImplemented(method: string): CpiFailure {
    return new CpiFailure(
      CpiErrorType.NotImplemented,
      `method '${method}' is not implemented by refit-cpi-local`,
    );
  }
}
