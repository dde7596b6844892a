import { parseArgs } from 'node:util';

/**
 * The flags most benchmarks take: whole numbers above 0 with defaults, `--json FILE` (what
 * bench/all.ts reads back) and `--help`, which prints `usage` and exits. A bad number fails naming
 * its flag, with the usage.
 */
export function readWholeNumberOptions<K extends string>(argv: string[], usage: string, defaults: Record<K, number>): Record<K, number> & { json?: string } {
  const numbers = Object.fromEntries(Object.entries<number>(defaults).map(([flag, value]) => [flag, { type: 'string' as const, default: String(value) }]));
  const { values } = parseArgs({ args: argv, options: { ...numbers, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const read = {} as Record<K, number>;
  for (const flag of Object.keys(defaults) as K[]) {
    const text = (values as Record<string, unknown>)[flag] as string;
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a whole number above 0, not "${text}"\n${usage}`);
    read[flag] = n;
  }
  return { ...read, json: values.json as string | undefined };
}
