export { BowlineError, describeError, SettingsError } from './errors.js';
export { createLogger, type Logger } from './logger.js';
export { createRegistry } from './metrics.js';
export { pushTo } from './collections.js';
