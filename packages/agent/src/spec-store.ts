import { readFile } from 'node:fs/promises';
import { ApplySpec } from '@refit/protocol';
import { AgentError, AgentErrorCode } from './errors.ts';
import type { AgentPaths } from './paths.ts';
import { writeJsonAtomic } from './settings.ts';

/** The last applied spec, persisted so get_state and a rebooted agent see it. */
export class SpecStore {
  readonly #file: string;
  #current: ApplySpec | null = null;

  constructor(paths: AgentPaths) {
    this.#file = paths.specFile;
  }

  async get(): Promise<ApplySpec> {
    if (this.#current) return this.#current;
    try {
      this.#current = ApplySpec.parse(JSON.parse(await readFile(this.#file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new AgentError(AgentErrorCode.Settings, `stored spec ${this.#file} is unreadable`, {
          cause: error,
        });
      }
      this.#current = ApplySpec.parse({});
    }
    return this.#current;
  }

  async set(spec: ApplySpec): Promise<void> {
    await writeJsonAtomic(this.#file, spec);
    this.#current = spec;
  }
}

/** The job names of a spec: one per template, from the rendered templates archive. */
export function specJobs(spec: ApplySpec): string[] {
  return (spec.job?.templates ?? []).map((t) => t.name);
}
