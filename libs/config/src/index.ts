export * from './types.js';
export * from './go-regexp.js';
export * from './presubmit.js';
export * from './load.js';
export * from './config-source.js';
