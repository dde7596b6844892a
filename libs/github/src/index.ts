export * from './client.js';
export * from './app.js';
export * from './conditional-requests.js';
