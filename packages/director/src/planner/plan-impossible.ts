import { DirectorError } from '../errors.ts';

/**
 * The manifest is valid but cannot be placed (a network has no free address left, an input the
 * planner needs is missing). BOSH answers these with 400-class errors before touching any VM.
 */
export class PlanImpossible extends DirectorError {
  static readonly code = 190016;
  constructor(message: string, options?: ErrorOptions) {
    super(PlanImpossible.code, 400, message, options);
  }
}
