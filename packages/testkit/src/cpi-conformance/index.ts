export { runCpiConformance, type CpiConformanceOptions } from './run-cpi-conformance.ts';
export { CpiAnswerError, CpiProcess, StrictCpiResponse, type CpiProcessOptions } from './cpi-process.ts';
