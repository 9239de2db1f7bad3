import { BugError } from '../errors.ts';
import type { HttpMethod, Route } from './route.ts';

interface Compiled {
  readonly route: Route;
  readonly segments: readonly string[];
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

const split = (path: string) => path.split('/').filter((segment) => segment.length > 0);

/** Matches paths against `Route` patterns (`/stemcells/:name/:version`); literal segments win. */
export class Router {
  readonly #routes: Compiled[];

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const route of routes) {
      const key = `${route.method} ${split(route.path)
        .map((s) => (s.startsWith(':') ? ':' : s))
        .join('/')}`;
      if (seen.has(key)) throw new BugError(`route ${route.method} ${route.path} defined twice`);
      seen.add(key);
    }
    // Fewer parameters first, so `/tasks/cancel` wins over `/tasks/:id`.
    this.#routes = routes
      .map((route) => ({ route, segments: split(route.path) }))
      .sort((a, b) => paramCount(a.segments) - paramCount(b.segments));
  }

  match(method: string, path: string): RouteMatch | null {
    let segments: string[];
    try {
      segments = split(path).map((segment) => decodeURIComponent(segment));
    } catch {
      return null;
    }
    for (const { route, segments: pattern } of this.#routes) {
      if (route.method !== (method as HttpMethod) || pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = pattern.every((part, i) => {
        const actual = segments[i] ?? '';
        if (part.startsWith(':')) {
          params[part.slice(1)] = actual;
          return actual.length > 0;
        }
        return part === actual;
      });
      if (ok) return { route, params };
    }
    return null;
  }
}

const paramCount = (segments: readonly string[]) => segments.filter((s) => s.startsWith(':')).length;
