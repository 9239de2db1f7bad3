import { DirectorError } from '../errors.ts';

/** A package could not be compiled (no compilation block, no address, the agent failed, …). */
export class PackageCompilationFailed extends DirectorError {
  static readonly code = 60001;
  constructor(message: string, options?: ErrorOptions) {
    super(60001, 500, message, options);
  }
}
