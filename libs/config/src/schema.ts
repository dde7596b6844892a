import { configField } from './definitions.js';
import { toJsonSchema } from './fields.js';

/** The JSON Schema of config.yaml, from the same field descriptions the loader checks against. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://bowline.dev/schemas/config.schema.json',
    title: 'Bowline config.yaml (a Prow config.yaml with a bowline: section)',
    ...toJsonSchema(configField),
  };
}
