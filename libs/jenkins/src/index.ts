export * from './jenkins-client.js';
export * from './jenkins-error.js';
