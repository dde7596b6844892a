export * from './http-fake.js';
export * from './github-server.js';
export * from './jenkins-server.js';
export * from './nats-server.js';
export * from './ports.js';
export * from './wait.js';
export * from './webhooks.js';
export * from './pipeline.js';
