// Ports of the Go libraries Prow's configuration is written for: text/template, RE2 regular
// expressions, cron schedules (robfig/cron) and Kubernetes label selectors.
export { parseCron, type CronSchedule } from './cron.js';
export { compileGoRegexp } from './go-regexp.js';
export { GoTemplate, TemplateSet, type TemplateOptions, type TemplateSubset } from './go-template.js';
export { GoFloat64, goKind, GoMap, isTrue } from './go-value.js';
export { goQuote, sprint } from './fmt.js';
export type { Arg, Command } from './template-ast.js';
export { TemplateError } from './template-error.js';
export type { FuncMap } from './template-funcs.js';
export { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.js';
export { selectorsOverlap } from './label-selector-overlap.js';
