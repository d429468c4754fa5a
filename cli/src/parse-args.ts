/** Argument parsers for commander options: each throws commander's InvalidArgumentError with the rule. */
import { InvalidArgumentError } from 'commander';
import { AUTH_METHODS } from '../../contract/src/values';

/** A non-negative integer (`--max-sessions 10`). */
export function intArg(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a whole number');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('too large');
  return n;
}

/**
 * A limit that may be removed: a whole number, or `none` (sent as null). Kept as the word here:
 * commander turns a parser's null into ''.
 */
export function limitArg(value: string): number | 'none' {
  return value === 'none' ? 'none' : intArg(value);
}

/** Seconds, fractions allowed (`--interval 0.5`). */
export function secondsArg(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError('not a number of seconds');
  return n;
}

/** A comma-separated list (`--dns 192.0.2.53,192.0.2.54`). */
export function listArg(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('an empty list');
  return items;
}

/** PPP authentication methods, comma-separated, each one the broker knows. */
export function authMethodsArg(value: string): string[] {
  const items = listArg(value);
  for (const m of items) if (!(AUTH_METHODS as readonly string[]).includes(m)) throw new InvalidArgumentError(`"${m}" is not one of ${AUTH_METHODS.join(', ')}`);
  return items;
}

/** Excluded ranges `first-last[,first-last]` -> `[{ first, last }]`. */
export function excludeArg(value: string): { first: string; last: string }[] {
  return listArg(value).map((range) => {
    const [first, last, extra] = range.split('-');
    if (!first || extra !== undefined) throw new InvalidArgumentError(`"${range}" is not first-last`);
    return { first, last: last ?? first };
  });
}

/** `true`/`false` for options that take a value. */
export function boolArg(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('not true or false');
}
