export { BowlineError, describeError, SettingsError } from './errors.js';
export { createLogger, type Logger } from './logger.js';
export { createRegistry, metricOnce } from './metrics.js';
export { pushTo } from './collections.js';
