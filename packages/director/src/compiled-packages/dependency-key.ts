/** A package as the dependency key sees it: its name, version and direct dependencies. */
export interface KeyedPackage {
  readonly name: string;
  readonly version: string;
  readonly dependencies: readonly string[];
}

type KeyEntry = [string, string] | [string, string, KeyEntry[]];

/**
 * BOSH's `dependency_key` (KeyGenerator): the JSON of the package's direct dependencies sorted
 * by name, each `[name, version]` followed, when it has dependencies of its own, by the same
 * list for them: `[["libbar","2",[["libbaz","1"]]],["libfoo","1.0"]]`; `[]` for none.
 * `packages` are the release version's packages (a dependency must be among them).
 */
export function dependencyKey(packageName: string, packages: readonly KeyedPackage[]): string {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const entry = (name: string, seen: readonly string[]): KeyEntry => {
    const pkg = byName.get(name);
    if (pkg === undefined) throw new Error(`dependency key: package '${name}' is not in the release`);
    if (seen.includes(name)) throw new Error(`dependency key: cycle through '${name}'`);
    const children = [...pkg.dependencies].sort().map((d) => entry(d, [...seen, name]));
    return children.length > 0 ? [pkg.name, pkg.version, children] : [pkg.name, pkg.version];
  };
  const root = byName.get(packageName);
  if (root === undefined) throw new Error(`dependency key: package '${packageName}' is not in the release`);
  return JSON.stringify([...root.dependencies].sort().map((d) => entry(d, [packageName])));
}
