export * from './types.js';
export * from './prowjob.js';
export * from './refs.js';
export * from './store.js';
export * from './work-queue.js';
export * from './template-view.js';
export * from './history.js';
