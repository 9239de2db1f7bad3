import { DirectorError } from '../errors.ts';

/**
 * BOSH's RunErrandError (errors.rb, 510000, HTTP 400): the errand does not exist, no instance
 * matches the `--instance` filter, or there is nothing to run it on.
 */
export class RunErrandError extends DirectorError {
  constructor(message: string) {
    super(510000, 400, message);
  }
}
