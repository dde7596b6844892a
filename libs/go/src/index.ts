// Ports of the Go libraries Prow's configuration is written for: text/template, RE2 regular
// expressions, cron schedules (robfig/cron) and Kubernetes label selectors.
export { CronError, parseCron, type CronSchedule } from './cron.js';
export { compileGoRegexp, RegexpTranslationError, translateGoRegexp } from './go-regexp.js';
export { GoTemplate, TemplateSet, type TemplateOptions, type TemplateSubset } from './go-template.js';
export { GoFloat64, GoMap, goKind, isTrue } from './go-value.js';
export { goQuote, sprint, sprintf } from './fmt.js';
export type { Arg, Command, Node, Pipe, Tree } from './template-ast.js';
export { TemplateError } from './template-error.js';
export type { MissingKey } from './template-exec.js';
export type { FuncMap, FuncSpec, TemplateFunc } from './template-funcs.js';
export { LabelSelectorError, parseLabelSelector, type LabelOperator, type LabelSelector, type Requirement } from './label-selector.js';
export { selectorsOverlap } from './label-selector-overlap.js';
