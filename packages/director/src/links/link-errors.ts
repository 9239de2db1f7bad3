import { DirectorError } from '../errors.ts';

/**
 * BOSH's DeploymentInvalidLink (190016): a link the manifest asks for cannot be resolved, or a
 * manifest `consumes`/`provides` entry is malformed. Raised while preparing the deployment,
 * before any VM is touched. (BOSH raises the wrapped message as a plain error; Refit keeps the
 * typed code so clients can tell it apart.)
 */
export class DeploymentInvalidLink extends DirectorError {
  static readonly code = 190016;
  constructor(message: string, options?: ErrorOptions) {
    super(190016, 400, message, options);
  }
}
