/** Plain-text tables for people (`--json` is for scripts). Pure: rows in, lines out. */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => unknown;
}

/** A cell's text: absent is `-`, lists are comma-joined, booleans yes/no. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cellText).join(',') : '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  // Control characters in a stored name would redraw the operator's terminal: show them escaped.
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Left-aligned columns separated by two spaces; a header row; `(none)` for no rows. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (parts: readonly string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** One record as `key: value` lines, for `show` commands. */
export function renderRecord(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${`${k}:`.padEnd(width + 1)} ${cellText(record[k])}`).join('\n') + '\n';
}
