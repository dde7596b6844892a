/**
 * Rows as aligned columns, two spaces apart, the way `kubectl get` prints them; no headers when
 * `headers` is empty. The last column is not padded, so lines carry no trailing spaces.
 */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const all = headers.length > 0 ? [headers, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
