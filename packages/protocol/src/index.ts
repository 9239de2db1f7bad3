export * from './agent.ts';
export * from './api.ts';
export * from './cpi.ts';
export * from './digest.ts';
export * from './manifests.ts';
export * from './task.ts';
