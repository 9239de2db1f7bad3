import { BadManifest } from '../errors.ts';

/** One thing wrong with a manifest, at a path such as `instance_groups[1].networks[0].name`. */
export interface ManifestProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * A deployment manifest or cloud config that cannot be used. The message lists every problem
 * found, one per line, each starting with its path; `problems` carries them as values.
 */
export class ManifestInvalid extends BadManifest {
  readonly problems: readonly ManifestProblem[];
  constructor(document: string, problems: readonly ManifestProblem[], options?: ErrorOptions) {
    super(`${document} is invalid:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, options);
    this.problems = problems;
  }
}

export function formatProblem(problem: ManifestProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** `['instance_groups', 1, 'networks', 0]` → `instance_groups[1].networks[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Collects problems; `throwIfAny` raises them together so the operator fixes all at once. */
export class ProblemList {
  readonly #problems: ManifestProblem[] = [];
  add(path: string, message: string): void {
    this.#problems.push({ path, message });
  }
  get size(): number {
    return this.#problems.length;
  }
  throwIfAny(document: string): void {
    if (this.#problems.length > 0) throw new ManifestInvalid(document, [...this.#problems]);
  }
}
