// Ports of the Go libraries Prow's configuration is written for: text/template, RE2 regular
// expressions, cron schedules (robfig/cron) and Kubernetes label selectors.
export { CronError, parseCron, type CronSchedule } from './cron.js';
export { compileGoRegexp, RegexpTranslationError, translateGoRegexp } from './go-regexp.js';
export { GoMap, GoTemplate, TemplateError } from './go-template.js';
export { LabelSelectorError, parseLabelSelector, selectorsOverlap, type LabelOperator, type LabelSelector, type Requirement } from './label-selector.js';
