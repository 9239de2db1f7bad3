import { parse as parseYaml } from 'yaml';
import { readText } from '../api/body.ts';
import type { Route } from '../api/route.ts';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import { dependencyKey } from '../compiled-packages/dependency-key.ts';
import type { Db } from '../db/db.ts';
import { BadYamlManifest } from './release-errors.ts';
import { ReleaseStore } from './release-store.ts';

interface MatchEntry {
  readonly name: string;
  readonly version: string;
  readonly fingerprint: string;
  readonly dependencies: string[];
  readonly stemcell: string | null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function entries(manifest: Record<string, unknown>, field: 'packages' | 'compiled_packages'): MatchEntry[] {
  const list = manifest[field];
  if (!Array.isArray(list)) throw new BadYamlManifest("Manifest doesn't have a usable packages section");
  return list.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const p = item as Record<string, unknown>;
    const fingerprint = text(p.fingerprint);
    if (fingerprint === null) return [];
    return [
      {
        name: text(p.name) ?? '',
        version: text(p.version) ?? '',
        fingerprint,
        dependencies: Array.isArray(p.dependencies) ? p.dependencies.map((d) => text(d) ?? '') : [],
        stemcell: typeof p.stemcell === 'string' ? p.stemcell : null,
      },
    ];
  });
}

async function readManifest(body: Parameters<typeof readText>[0]): Promise<Record<string, unknown>> {
  let manifest: unknown;
  try {
    manifest = parseYaml(await readText(body, 16 * 1024 * 1024));
  } catch (error) {
    throw new BadYamlManifest(`Manifest is not valid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new BadYamlManifest("Manifest doesn't have a usable packages section");
  }
  return manifest as Record<string, unknown>;
}

/**
 * `POST /packages/matches` (YAML release.MF body): the fingerprints of its packages whose
 * source is already stored, so the CLI leaves them out of the tarball it uploads.
 */
export function packageMatchesRoute(db: Db): Route {
  return {
    method: 'POST',
    path: '/packages/matches',
    async handle(request) {
      const manifest = await readManifest(request);
      const fingerprints = entries(manifest, 'packages').map((e) => e.fingerprint);
      return { kind: 'json', body: await new ReleaseStore(db).storedFingerprints(fingerprints) };
    },
  };
}

/**
 * `POST /packages/matches_compiled` (YAML compiled release.MF body): the fingerprints of its
 * compiled packages already stored for the same stemcell and dependency key.
 */
export function compiledPackageMatchesRoute(db: Db): Route {
  return {
    method: 'POST',
    path: '/packages/matches_compiled',
    async handle(request) {
      const list = entries(await readManifest(request), 'compiled_packages');
      const stored = await new CompiledPackageStore(db).byFingerprints(list.map((e) => e.fingerprint));
      const matched = new Set<string>();
      for (const entry of list) {
        let key: string;
        try {
          key = dependencyKey(entry.name, list);
        } catch {
          continue;
        }
        const hit = stored.some(
          (c) =>
            c.fingerprint === entry.fingerprint &&
            c.dependencyKey === key &&
            `${c.stemcellOs}/${c.stemcellVersion}` === entry.stemcell,
        );
        if (hit) matched.add(entry.fingerprint);
      }
      return { kind: 'json', body: [...matched] };
    },
  };
}
