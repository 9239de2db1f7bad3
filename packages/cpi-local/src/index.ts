export { handleRequest } from './handle-request.ts';
export { loadConfig, parseConfig, type LocalCpiConfig } from './config.ts';
export { stemcellFormat } from './methods/info.ts';
export { isLoopbackHost, checkLoopbackNetworks } from './networks.ts';
export { InVm } from './state/layout.ts';
