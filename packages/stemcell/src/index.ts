export * from './build-stemcell.ts';
export * from './build-args.ts';
export { INIT_PATH, SETTINGS_PATH, AGENT_LOG_PATH } from './init-script.ts';
export { BOOT_RECORD } from './install-script.ts';
export { AGENT_BUNDLE_PATH, AGENT_COMMAND_PATH, NODE_PATH } from './refit-layer.ts';
export { generateSigningKey, keyFingerprint, PUBLIC_KEY_FILE, SIGNING_KEY_FILE } from './rootfs-signing.ts';
