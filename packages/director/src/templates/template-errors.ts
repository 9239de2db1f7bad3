import { DirectorError } from '../errors.ts';

/** One template that failed: the file (source under `templates/`), its line, Ruby's message. */
export interface TemplateFailure {
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

/**
 * BOSH's JobTemplateBindingFailed (80006): a job's templates did not render. The message is
 * BOSH's: `Unable to render templates for job '<job>'. Errors are:` then one
 * `  - Error filling in template '<file>' (line <n>: <message>)` per failed template.
 */
export class JobTemplateRenderFailed extends DirectorError {
  static readonly code = 80006;
  readonly job: string;
  readonly failures: readonly TemplateFailure[];

  constructor(job: string, failures: readonly TemplateFailure[], options?: ErrorOptions) {
    const lines = failures.map(
      (f) => `  - Error filling in template '${f.file}' (line ${f.line ?? 'unknown'}: ${f.message})`,
    );
    super(
      80006,
      400,
      [`Unable to render templates for job '${job}'. Errors are:`, ...lines].join('\n'),
      options,
    );
    this.job = job;
    this.failures = failures;
  }
}

/** A job property whose path crosses a value that is not a hash (BOSH's InvalidPropertyType). */
export class InvalidPropertyType extends DirectorError {
  static readonly code = 80006;
  constructor(message: string) {
    super(80006, 400, message);
  }
}

/** The renderer itself failed (Ruby missing, timeout, garbage on stdout): not a template error. */
export class TemplateRendererFailed extends DirectorError {
  static readonly code = 100;
  constructor(message: string, options?: ErrorOptions) {
    super(100, 500, message, options);
  }
}

/** Indents every line of a nested error message by `spaces`. */
function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}

/**
 * Every job of an instance group that did not render, in BOSH's nested form:
 * `Unable to render jobs for instance group '<ig>'. Errors are:` then each job's error,
 * `  - Unable to render templates for job '<job>'. Errors are:` and its files one level deeper.
 */
export class InstanceGroupTemplatesRenderFailed extends DirectorError {
  static readonly code = 80006;
  readonly instanceGroup: string;
  readonly jobs: readonly JobTemplateRenderFailed[];

  constructor(instanceGroup: string, jobs: readonly JobTemplateRenderFailed[]) {
    const nested = jobs.map((job) => {
      const [first = '', ...rest] = job.message.split('\n');
      return [`  - ${first}`, ...rest.map((line) => indent(line, 2))].join('\n');
    });
    super(
      80006,
      400,
      [`Unable to render jobs for instance group '${instanceGroup}'. Errors are:`, ...nested].join('\n'),
    );
    this.instanceGroup = instanceGroup;
    this.jobs = jobs;
  }
}
