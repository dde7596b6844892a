export * from './client.js';
export * from './app.js';
