import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '@bowline/observability';
import { ConfigError } from './problems.js';

/** The file's text, or a ConfigError naming the file that cannot be read. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, line: 0, col: 0, field: '(file)', message: `cannot read: ${describeError(error)}` }]);
  }
}

/** Every `.yaml`/`.yml` file under `dir`, sorted so errors come in a stable order. */
export function yamlFilesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (error) {
    throw new ConfigError([{ file: dir, line: 0, col: 0, field: '(job config)', message: `cannot read directory: ${describeError(error)}` }]);
  }
  return entries.flatMap((name) => {
    // Kubernetes mounts a ConfigMap with hidden `..data` links; following them would read each file twice.
    if (name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}
