export * from './compile-cloud-config.ts';
export * from './compile-manifest.ts';
export { ManifestInvalid, formatPath, type ManifestProblem } from './manifest-invalid.ts';
export * from './update-config.ts';
export { compareVersions, latestOf } from './version-order.ts';
