import { ReleaseInvalidPackage } from './release-errors.ts';

export interface PackageNode {
  readonly name: string;
  readonly dependencies: readonly string[];
}

/**
 * `Resolving package dependencies`: every dependency names a package of the release, and the
 * dependencies form no cycle. Returns, per package, its transitive dependencies in an order
 * where each comes after its own dependencies (the compile order). Errors name the package.
 */
export function resolvePackageDependencies(packages: readonly PackageNode[]): Map<string, string[]> {
  const byName = new Map<string, PackageNode>();
  for (const pkg of packages) {
    if (byName.has(pkg.name)) {
      throw new ReleaseInvalidPackage(`Package '${pkg.name}' is listed more than once in release.MF`);
    }
    byName.set(pkg.name, pkg);
  }
  for (const pkg of packages) {
    for (const dependency of pkg.dependencies) {
      if (!byName.has(dependency)) {
        throw new ReleaseInvalidPackage(`Package '${pkg.name}' depends on missing package '${dependency}'`);
      }
      if (dependency === pkg.name) {
        throw new ReleaseInvalidPackage(`Package '${pkg.name}' depends on itself`);
      }
    }
  }
  const resolved = new Map<string, string[]>();
  const visiting: string[] = [];
  const visit = (name: string): string[] => {
    const done = resolved.get(name);
    if (done) return done;
    const at = visiting.indexOf(name);
    if (at !== -1) {
      const cycle = [...visiting.slice(at), name].join(' -> ');
      throw new ReleaseInvalidPackage(`Package '${name}' has a dependency cycle: ${cycle}`);
    }
    visiting.push(name);
    const order: string[] = [];
    for (const dependency of [...(byName.get(name)?.dependencies ?? [])].sort()) {
      for (const transitive of [...visit(dependency), dependency]) {
        if (!order.includes(transitive)) order.push(transitive);
      }
    }
    visiting.pop();
    resolved.set(name, order);
    return order;
  };
  for (const pkg of packages) visit(pkg.name);
  return resolved;
}

/** Packages in an order where each comes after its dependencies (for compilation). */
export function compileOrder(packages: readonly PackageNode[]): string[] {
  const resolved = resolvePackageDependencies(packages);
  const order: string[] = [];
  for (const pkg of packages) {
    for (const name of [...(resolved.get(pkg.name) ?? []), pkg.name]) {
      if (!order.includes(name)) order.push(name);
    }
  }
  return order;
}
