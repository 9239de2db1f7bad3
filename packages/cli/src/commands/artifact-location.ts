import { homedir } from 'node:os';
import { resolve } from 'node:path';

export type ArtifactLocation =
  { readonly kind: 'url'; readonly url: string } | { readonly kind: 'file'; readonly path: string };

/** An upload argument: an http(s) URL the director downloads, or a local file (`~` expanded). */
export function artifactLocation(argument: string): ArtifactLocation {
  if (/^https?:\/\//i.test(argument)) return { kind: 'url', url: argument };
  const path = argument === '~' || argument.startsWith('~/') ? homedir() + argument.slice(1) : argument;
  return { kind: 'file', path: resolve(path) };
}
