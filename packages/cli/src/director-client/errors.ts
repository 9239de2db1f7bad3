import { ErrorBody } from '@refit/protocol';
import { CliError } from '../errors.ts';

/** The director could not be reached (after retries), or TLS verification failed. */
export class DirectorTransportError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('director-transport', message, options);
  }
}

/**
 * A non-success answer. `directorCode`/`description` come from BOSH's `{"code","description"}`
 * body when there is one; the message is the stock CLI's, so operators recognise it.
 */
export class DirectorResponseError extends CliError {
  readonly status: number;
  readonly body: string;
  readonly directorCode: number | undefined;
  readonly description: string | undefined;
  constructor(status: number, body: string) {
    super(
      status === 401 ? 'director-unauthorized' : 'director-response',
      `Director responded with non-successful status code '${status}' response '${body.trim()}'`,
    );
    this.status = status;
    this.body = body;
    const parsed = parseErrorBody(body);
    this.directorCode = parsed?.code;
    this.description = parsed?.description;
  }
}

/** A response that is not the JSON the endpoint promises. */
export class DirectorBadResponseError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('director-bad-response', message, options);
  }
}

/** A followed task ended in a state other than `done`. */
export class TaskFailedError extends CliError {
  readonly taskId: number;
  readonly state: string;
  constructor(taskId: number, state: string) {
    super('task-failed', `Expected task '${taskId}' to succeed but state is '${state}'`);
    this.taskId = taskId;
    this.state = state;
  }
}

function parseErrorBody(body: string): ErrorBody | undefined {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
