import { writeFileSync } from 'node:fs';
import { formatTable } from './table.js';

/**
 * One benchmark's results, as `bench/all.ts` gathers them into RESULTS.md: tables (first row the
 * header), lines of verdicts and explanations, and raw samples for the plot.
 */
export interface Section {
  id: string;
  title: string;
  /** The command that runs this benchmark alone. */
  command: string;
  /** What was measured and how, in a sentence or two. */
  about: string;
  tables: { caption?: string; rows: string[][] }[];
  notes: string[];
  /** Raw samples (e.g. latencies in ms by series) for latency.png. */
  samples?: Record<string, number[]>;
}

/** Prints a section for a person at a terminal. */
export function printSection(section: Section): void {
  console.log(`\n== ${section.title}\n${section.about}\n`);
  for (const table of section.tables) {
    if (table.caption) console.log(`${table.caption}\n`);
    console.log(`${formatTable(table.rows)}\n`);
  }
  for (const note of section.notes) console.log(note);
}

/** Prints it, and writes it as JSON where `--json FILE` asked (bench/all.ts reads that). */
export function emitSection(section: Section, jsonFile: string | undefined): void {
  printSection(section);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(section));
}

/** `PASS`/`MISS` for a target line. */
export function verdict(ok: boolean): string {
  return ok ? 'MET' : 'MISSED';
}

/** A table as Markdown, the first column left-aligned and the figures right-aligned. */
export function markdownTable(rows: string[][]): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const [header, ...body] = rows;
  return [
    `| ${header!.map(escape).join(' | ')} |`,
    `| ${header!.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
