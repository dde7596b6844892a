import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { deriveReadSchemas, PAYLOAD_READS, type ReadSchema, type WebhookSchemaDocument } from './payload-schema.js';

/**
 * How deeply a payload may nest. GitHub's deepest payloads nest about 8 levels (a check suite's
 * pull requests' head repository's owner); 32 leaves room for fields GitHub adds, while a body
 * nested 100,000 deep (issue 14) is refused before anything recursive walks it.
 */
export const MAX_PAYLOAD_DEPTH = 32;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, found by one pass over the bytes
 * with a counter, never by recursion, so it cannot overflow the stack however deep the input. It
 * reads brackets outside strings only; strings are skipped with `indexOf`, which is most of a
 * webhook's bytes. Malformed JSON is left for JSON.parse to refuse.
 */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i += 1) {
    const c = bytes[i];
    if (c === QUOTE) {
      // Jump to the closing quote: the first one not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = bytes.indexOf(QUOTE, end + 1);
        if (end < 0) return false;
        let backslashes = 0;
        while (bytes[end - 1 - backslashes] === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export interface PayloadChecker {
  /** The events whose payloads are checked (those Bowline stores). */
  readonly events: ReadonlySet<string>;
  /** The schema each event is checked against, for tests and for reading. */
  readonly schemas: Readonly<Record<string, ReadSchema>>;
  /**
   * Undefined when the payload has every field Bowline reads, with its type; otherwise the first
   * wrong field and what was expected (`issue.number: expected integer, got string`). Events not
   * in `events` pass unchecked.
   */
  check(event: string, payload: unknown): string | undefined;
}

let shared: PayloadChecker | undefined;

/**
 * The checker over the fields Bowline reads (`PAYLOAD_READS`), typed by GitHub's published
 * webhook schemas (`@octokit/webhooks-schemas`, pinned). Derived and compiled once per process:
 * the 600 KB of GitHub's schemas are read at start, only the small subset is compiled.
 */
export function payloadChecker(): PayloadChecker {
  shared ??= createPayloadChecker(loadGitHubSchemas());
  return shared;
}

export function createPayloadChecker(document: WebhookSchemaDocument, reads = PAYLOAD_READS): PayloadChecker {
  const schemas = deriveReadSchemas(document, reads);
  // One error, the first: the answer names one field, and stopping early is cheaper. `verbose`
  // keeps the offending value, to say what was found instead.
  const ajv = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, strict: true });
  const validators = new Map<string, ValidateFunction>(Object.entries(schemas).map(([event, schema]) => [event, ajv.compile(schema)]));
  return {
    events: new Set(validators.keys()),
    schemas,
    check(event, payload) {
      const validate = validators.get(event);
      if (!validate || validate(payload)) return undefined;
      return describeFirstError(validate.errors?.[0]);
    },
  };
}

function loadGitHubSchemas(): WebhookSchemaDocument {
  // The package's main is a JSON file: require() reads it on every Node 20 release, where an ESM
  // import would need the JSON import attribute (Node 20.10 and later).
  return createRequire(import.meta.url)('@octokit/webhooks-schemas') as WebhookSchemaDocument;
}

function describeFirstError(error: ErrorObject | undefined): string {
  if (!error) return '(payload): does not match';
  const at = fieldPath(error.instancePath);
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const expected = (error.parentSchema as ReadSchema | undefined)?.properties?.[missing]?.type;
    return `${at ? `${at}.` : ''}${missing}: missing${expected ? `, expected ${typeNames(expected)}` : ''}`;
  }
  if (error.keyword === 'type') {
    return `${at || '(payload)'}: expected ${typeNames((error.params as { type: string | string[] }).type)}, got ${jsonTypeOf(error.data)}`;
  }
  return `${at || '(payload)'}: ${error.message ?? 'is not valid'}`;
}

/** `/commits/0/added` → `commits[0].added`, as a reader of the payload would write it. */
function fieldPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function typeNames(type: string | string[]): string {
  return (Array.isArray(type) ? type : type.split(',')).join(' or ');
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
