export * from './errors.js';
export * from './logger.js';
export * from './env.js';
export * from './ops-server.js';
export * from './shutdown.js';
export * from './collections.js';
