import { compileGoRegexp, parseLabelSelector, type GoTemplate, type LabelSelector } from '@bowline/go';
import { describeError } from '@bowline/observability';
import { parseDuration } from '@bowline/service';
import { parseConfigTemplate } from './templates.js';
import type { DocumentReader, Path } from './yaml-document.js';

// Checked strings made into the values they stand for; a bad one is a problem at its field.

export function regexpField(doc: DocumentReader, path: Path, pattern: string | undefined, job: string): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return compileGoRegexp(pattern);
  } catch (error) {
    doc.problem(path, `job "${job}": invalid regular expression: ${describeError(error)}`);
    return undefined;
  }
}

export function durationField(doc: DocumentReader, path: Path, text: unknown, fallback: number): number {
  if (typeof text !== 'string') return fallback;
  try {
    return parseDuration(text);
  } catch (error) {
    doc.problem(path, describeError(error));
    return fallback;
  }
}

export function selectorField(doc: DocumentReader, path: Path, text: string): LabelSelector {
  try {
    return parseLabelSelector(text);
  } catch (error) {
    doc.problem(path, `invalid label selector "${text}": ${describeError(error)}`);
    return parseLabelSelector('');
  }
}

export function templateField(doc: DocumentReader, path: Path, text: unknown): GoTemplate | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseConfigTemplate(text);
  } catch (error) {
    doc.problem(path, `invalid template: ${describeError(error)}`);
    return undefined;
  }
}

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

export function definedStrings(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((value as Record<string, unknown>) ?? {}).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

export function definedOnly<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}
