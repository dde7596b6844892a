/**
 * One description of config.yaml's shape serves twice: the loader reads and type-checks every
 * field through it (with file, line and field in each error), and the JSON Schema editors use is
 * generated from it, so the two never disagree.
 */
export type Format = 'duration' | 'regexp' | 'template' | 'cron' | 'label-selector' | 'url' | 'path';

interface Base {
  description: string;
}

export type Field =
  | (Base & {
      type: 'string';
      enum?: readonly string[];
      /** Checked by the loader too, which then says the value must be `patternText`. */
      pattern?: string;
      patternText?: string;
      /** A whole number is read as its decimal text (GitHub App ids are written either way). */
      orNumber?: boolean;
      format?: Format;
      default?: string;
    })
  | (Base & { type: 'boolean'; default?: boolean })
  | (Base & { type: 'integer'; minimum?: number; default?: number })
  | (Base & { type: 'list'; items: Field })
  | (Base & { type: 'map'; values: Field; keyPattern?: string })
  | (Base & {
      type: 'object';
      fields: Record<string, Field>;
      required?: readonly string[];
      /** Other keys are allowed (Prow sections Bowline does not read); `known` lists the ones not worth a warning. */
      open?: boolean;
      known?: readonly string[];
    })
  | (Base & { type: 'any' });

export const str = (description: string, extra: Omit<Extract<Field, { type: 'string' }>, 'type' | 'description'> = {}): Field => ({
  type: 'string',
  description,
  ...extra,
});
export const bool = (description: string, fallback?: boolean): Field => ({ type: 'boolean', description, default: fallback });
export const int = (description: string, extra: { minimum?: number; default?: number } = {}): Field => ({ type: 'integer', description, ...extra });
export const list = (description: string, items: Field): Field => ({ type: 'list', description, items });
export const map = (description: string, values: Field, keyPattern?: string): Field => ({ type: 'map', description, values, keyPattern });
export const any = (description: string): Field => ({ type: 'any', description });
export const object = (
  description: string,
  fields: Record<string, Field>,
  extra: { required?: readonly string[]; open?: boolean; known?: readonly string[] } = {},
): Field => ({ type: 'object', description, fields, ...extra });

const FORMAT_PATTERNS: Partial<Record<Format, string>> = {
  duration: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$',
};

/** The JSON Schema (draft 2020-12) of a field, with descriptions and defaults. */
export function toJsonSchema(field: Field): Record<string, unknown> {
  const common: Record<string, unknown> = { description: field.description };
  switch (field.type) {
    case 'string': {
      const pattern = field.pattern ?? (field.format ? FORMAT_PATTERNS[field.format] : undefined);
      return {
        ...common,
        type: field.orNumber ? ['string', 'integer'] : 'string',
        ...(field.enum ? { enum: field.enum } : {}),
        ...(pattern ? { pattern } : {}),
        ...(field.format === 'url' ? { format: 'uri' } : {}),
        ...(field.default !== undefined ? { default: field.default } : {}),
      };
    }
    case 'boolean':
      return { ...common, type: 'boolean', ...(field.default !== undefined ? { default: field.default } : {}) };
    case 'integer':
      return {
        ...common,
        type: 'integer',
        ...(field.minimum !== undefined ? { minimum: field.minimum } : {}),
        ...(field.default !== undefined ? { default: field.default } : {}),
      };
    case 'list':
      return { ...common, type: 'array', items: toJsonSchema(field.items) };
    case 'map':
      return {
        ...common,
        type: 'object',
        ...(field.keyPattern ? { propertyNames: { pattern: field.keyPattern } } : {}),
        additionalProperties: toJsonSchema(field.values),
      };
    case 'object':
      return {
        ...common,
        type: 'object',
        properties: Object.fromEntries(Object.entries(field.fields).map(([k, f]) => [k, toJsonSchema(f)])),
        ...(field.required?.length ? { required: field.required } : {}),
        additionalProperties: field.open ?? false,
      };
    case 'any':
      return common;
  }
}
