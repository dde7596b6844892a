export * from './client.js';
export * from './app.js';
export * from './conditional-requests.js';
export * from './app-installations.js';
export * from './resilience.js';
