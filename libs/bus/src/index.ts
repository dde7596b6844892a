export * from './connect.js';
export * from './streams.js';
export * from './events.js';
export * from './runtime.js';
export * from './lease.js';
export * from './read-stream.js';
export * from './payload-schema.js';
export * from './payloads.js';
