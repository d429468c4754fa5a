/**
 * The `users import` file: CSV with a header row naming `username` and `password` (required) and
 * optionally `staticIp` and `chapMd5` (true/false), in any order (RFC 4180 quoting: a field in
 * double quotes may hold commas, line breaks and "" for a quote). Pure: text in, rows or errors out.
 */

export interface ImportRow {
  /** 1-based line of the row in the file, for error messages. */
  readonly line: number;
  readonly username: string;
  readonly password: string;
  readonly staticIp?: string;
  readonly chapMd5?: boolean;
}

export type ParsedImport = { readonly ok: true; readonly rows: ImportRow[] } | { readonly ok: false; readonly errors: string[] };

const KNOWN = ['username', 'password', 'staticIp', 'chapMd5'] as const;

/** Splits CSV text into records of fields (RFC 4180 §2), each with the line it starts on. */
export function splitCsv(text: string): { line: number; fields: string[] }[] | string {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { fields.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { i++; continue; }
    if (ch === '\n') { endRecord(); line++; start = line; i++; continue; }
    field += ch;
    i++;
  }
  if (quoted) return `line ${start}: a quoted field is not closed`;
  endRecord();
  return records;
}

export function parseUsersCsv(text: string): ParsedImport {
  const records = splitCsv(text.replace(/^\uFEFF/, ''));
  if (typeof records === 'string') return { ok: false, errors: [records] };
  const [header, ...body] = records;
  if (!header) return { ok: false, errors: ['the file is empty; the first line names the columns: username,password[,staticIp][,chapMd5]'] };
  const names = header.fields.map((f) => f.trim());
  const errors: string[] = [];
  for (const n of names) if (!(KNOWN as readonly string[]).includes(n)) errors.push(`line 1: unknown column "${n}" (known: ${KNOWN.join(', ')})`);
  for (const n of ['username', 'password']) if (!names.includes(n)) errors.push(`line 1: no "${n}" column`);
  if (errors.length) return { ok: false, errors };
  const col = (n: string) => names.indexOf(n);
  const rows: ImportRow[] = [];
  for (const r of body) {
    if (r.fields.length !== names.length) {
      errors.push(`line ${r.line}: ${r.fields.length} fields, the header has ${names.length}`);
      continue;
    }
    const get = (n: string) => (col(n) === -1 ? undefined : r.fields[col(n)]);
    const username = get('username')!.trim();
    const password = get('password')!;
    if (!username) errors.push(`line ${r.line}: empty username`);
    if (!password) errors.push(`line ${r.line}: empty password`);
    const staticIp = get('staticIp')?.trim() || undefined;
    const chapText = get('chapMd5')?.trim().toLowerCase() || undefined;
    if (chapText !== undefined && chapText !== 'true' && chapText !== 'false') errors.push(`line ${r.line}: chapMd5 is "${chapText}", not true or false`);
    rows.push({
      line: r.line,
      username,
      password,
      ...(staticIp !== undefined ? { staticIp } : {}),
      ...(chapText !== undefined ? { chapMd5: chapText === 'true' } : {}),
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, rows };
}
