import type { JobManifest } from '@refit/protocol';
import type { TemplateLink } from '../templates/render-job-templates.ts';

export type Hash = Readonly<Record<string, unknown>>;

/** One release job of an instance group, as the link resolver needs it. */
export interface LinkJobInput {
  /** The release job's name (the manifest's `jobs[].name`). */
  readonly name: string;
  /** The job's spec: its `provides`, `consumes` and `properties` (for link property defaults). */
  readonly spec: Pick<JobManifest, 'provides' | 'consumes' | 'properties'>;
  /** The properties the job gets from the manifest (job level, else the deployment's). */
  readonly properties: Hash;
  /** The manifest's `consumes:` for this job (link name → hash, or `nil`). */
  readonly consumes: Hash;
  /** The manifest's `provides:` for this job (link name → hash with `as`, or `nil`). */
  readonly provides: Hash;
}

export interface LinkInstanceInput {
  readonly id: string;
  readonly index: number;
  readonly az: string | null;
  readonly bootstrap: boolean;
  /** The instance's address on its default network. */
  readonly address: string | null;
  /** Network name → the instance's IP there (for a consumer's `network:`). */
  readonly addresses: Readonly<Record<string, string | null>>;
}

export interface LinkGroupInput {
  readonly name: string;
  readonly jobs: readonly LinkJobInput[];
  /** The group's desired instances (obsolete ones excluded). */
  readonly instances: readonly LinkInstanceInput[];
}

export interface LinkResolutionInput {
  readonly deployment: string;
  readonly groups: readonly LinkGroupInput[];
}

/** Instance group → job → link name (the job spec's consumes name) → the resolved link. */
export type ResolvedLinks = ReadonlyMap<string, ReadonlyMap<string, Readonly<Record<string, TemplateLink>>>>;
