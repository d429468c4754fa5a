/**
 * The one rule for user names inside a tenant: two names are the same user when their canonical
 * forms are equal, and a name that could look like another one is refused.
 *
 * Canonical form: Unicode NFKC (UAX #15), then a full case fold (upper-casing then lower-casing,
 * so `ß` and `SS` both become `ss`), then NFKC again; repeated until it no longer changes.
 * Refused, after that:
 * - invisible characters: Default_Ignorable_Code_Point (zero-width space and joiners, soft hyphen,
 *   variation selectors, Hangul fillers), format (Cf), private-use, unassigned and surrogate code
 *   points, line and paragraph separators, the Braille blank, any white space other than U+0020,
 *   and spaces at either end;
 * - control characters (C0, DEL, C1) and `\` (it would make `TENANT\user` ambiguous);
 * - a leading combining mark;
 * - letters of more than one script (UTS #39 §5.2 "highly restrictive": Han may go with
 *   Hiragana/Katakana, Bopomofo or Hangul, and Latin with those CJK sets), so the Cyrillic `а`
 *   in `аlice` cannot pass for the Latin `a`. A name written wholly in one script that merely
 *   looks like a name in another (Cyrillic `асе` vs Latin `ace`) is not caught: that needs the
 *   UTS #39 confusables table (docs/security.md).
 * Pure: no I/O.
 */

export const MAX_USERNAME_CHARS = 128;

export type UsernameProblem = 'empty' | 'too-long' | 'invisible-character' | 'control-character' | 'separator' | 'leading-mark' | 'mixed-script';

export type CanonicalName = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly problem: UsernameProblem; readonly message: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\u2800]/u;
const OTHER_SPACE = /(?! )\s/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;

/** Scripts a letter is looked up in (anything else counts as one "other" script). */
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi',
  'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
  'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Ogham', 'Runic', 'Khmer', 'Mongolian',
  'Hiragana', 'Katakana', 'Bopomofo', 'Han', 'Yi', 'Coptic', 'Tifinagh', 'Vai', 'Javanese', 'Balinese', 'Sundanese',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')] as const);
const COMMON_OR_INHERITED = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** Script sets that may share one name (UTS #39 §5.2, highly restrictive). */
const ALLOWED_MIXES: readonly (readonly string[])[] = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

function fold(name: string): string {
  let current = name;
  for (let i = 0; i < 4; i++) {
    const next = current.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
    if (next === current) return next;
    current = next;
  }
  return current;
}

function scriptOf(char: string): string | undefined {
  if (!LETTER_OR_MARK.test(char) || COMMON_OR_INHERITED.test(char)) return undefined;
  for (const [script, pattern] of SCRIPT_PATTERNS) if (pattern.test(char)) return script;
  return 'other';
}

function mixesScripts(name: string): boolean {
  const scripts = new Set<string>();
  for (const char of name) {
    const script = scriptOf(char);
    if (script !== undefined) scripts.add(script);
  }
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.includes(s)));
}

const refuse = (problem: UsernameProblem, message: string): CanonicalName => ({ ok: false, problem, message });

/** The canonical form of a user name (without realm), or why the name is refused. */
export function canonicalUsername(raw: string): CanonicalName {
  if (CONTROL.test(raw)) return refuse('control-character', 'user name contains a control character');
  if (INVISIBLE.test(raw)) return refuse('invisible-character', 'user name contains an invisible or unassigned character');
  const name = fold(raw);
  if (name.length === 0) return refuse('empty', 'user name is empty');
  // Checked again on the folded form: NFKC can turn a visible character into one of these.
  if (CONTROL.test(name)) return refuse('control-character', 'user name contains a control character');
  if (INVISIBLE.test(name) || OTHER_SPACE.test(name) || name !== name.trim()) {
    return refuse('invisible-character', 'user name contains an invisible character, a space other than U+0020 or a space at either end');
  }
  if (name.includes('\\')) return refuse('separator', 'user name contains "\\"');
  if (/^\p{M}/u.test(name)) return refuse('leading-mark', 'user name starts with a combining mark');
  if ([...name].length > MAX_USERNAME_CHARS) return refuse('too-long', `user name is longer than ${MAX_USERNAME_CHARS} characters`);
  if (mixesScripts(name)) return refuse('mixed-script', 'user name mixes letters of different scripts');
  return { ok: true, name };
}

/**
 * The names a user name is looked up under: its canonical form first, then the name exactly as
 * given when that differs (users stored before canonical names keep their name and their login).
 */
export function lookupNames(username: string): string[] {
  const canonical = canonicalUsername(username);
  if (!canonical.ok) return [username];
  return canonical.name === username ? [username] : [canonical.name, username];
}
