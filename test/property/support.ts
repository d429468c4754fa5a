/**
 * Shared helpers for the codec property tests: run counts, a "total decoder" check (returns a value or an error,
 * never throws, stays fast, allocates in proportion to its input) and byte mutations of valid encodings.
 *
 * Runs: each property uses `runs(n)`; PROPERTY_RUNS_FACTOR=50 (for example) makes a long run. The default keeps every
 * codec file to a few seconds on the shared 2-core machine.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';

const FACTOR = Number(process.env.PROPERTY_RUNS_FACTOR ?? '1');

/** Number of runs for a property: `base` by default, times PROPERTY_RUNS_FACTOR for a long run. */
export function runs(base: number): { numRuns: number } {
  return { numRuns: Math.max(1, Math.round(base * (Number.isFinite(FACTOR) && FACTOR > 0 ? FACTOR : 1))) };
}

/** A decoder under test and how to recognise its error values. */
export interface TotalDecoderCheck<T> {
  readonly name: string;
  readonly decode: (bytes: Uint8Array) => T;
  /** Upper bound of one call, in ms. Generous: the shared CI machine is slow; a loop would blow it by far. */
  readonly maxMs?: number;
  /** Bound for `retainedSize(result)`: factor * input length + slack. */
  readonly sizeFactor?: number;
  readonly sizeSlack?: number;
}

/**
 * Approximate memory a decoded value holds on to beyond the input: bytes of every byte array that is NOT a view
 * into the input, 2 bytes per string character, 16 per object/array node. Views of the input cost nothing: that is
 * exactly what a zero-copy decoder returns.
 */
export function retainedSize(value: unknown, input: Uint8Array, seen = new Set<object>()): number {
  if (typeof value === 'string') return 2 * value.length;
  if (value === null || typeof value !== 'object') return 0;
  if (seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.buffer === input.buffer ? 0 : value.byteLength;
  let total = 16;
  if (Array.isArray(value)) {
    for (const item of value) total += 8 + retainedSize(item, input, seen);
    return total;
  }
  // Error values carry a message and details; their size is bounded by the input like everything else.
  for (const key of Object.keys(value)) total += 8 + 2 * key.length + retainedSize((value as Record<string, unknown>)[key], input, seen);
  return total;
}

/**
 * Asserts that `decode(bytes)` returns (no throw), within the time bound, and retains at most
 * sizeFactor * bytes.length + sizeSlack. Returns the result for further checks.
 */
export function assertTotal<T>(check: TotalDecoderCheck<T>, bytes: Uint8Array): T {
  const started = performance.now();
  let result: T;
  try {
    result = check.decode(bytes);
  } catch (error) {
    assert.fail(`${check.name} threw on ${Buffer.from(bytes).toString('hex')}: ${String(error)}`);
  }
  const ms = performance.now() - started;
  // A hang guard (a decoder looping or going quadratic on hostile lengths), not a speed figure: loose
  // enough that a loaded CI machine never trips it; speed is the benchmarks' job.
  assert.ok(ms < (check.maxMs ?? 2000), `${check.name} took ${ms.toFixed(1)} ms on ${bytes.length} bytes`);
  const size = retainedSize(result, bytes);
  const bound = (check.sizeFactor ?? 24) * bytes.length + (check.sizeSlack ?? 2048);
  assert.ok(size <= bound, `${check.name} retained ~${size} bytes for a ${bytes.length}-byte input (bound ${bound})`);
  return result;
}

/** One edit of a byte string. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'max16'; readonly at: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly count: number };

const position = fc.nat({ max: 0xffff });

/** Arbitrary edits, positions taken modulo the input length when applied. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff) }),
  // A length field claiming the maximum is the classic over-allocation bait.
  fc.record({ kind: fc.constant('max16' as const), at: position }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }),
);

/** Applies edits in order to a copy of `input`. */
export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = (b[at] as number) ^ m.mask;
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'max16':
        if (b.length > 0) b[at] = 0xff;
        if (at + 1 < b.length) b[at + 1] = 0xff;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
        break;
      case 'duplicate': {
        const piece = b.subarray(at, at + m.count);
        b = Uint8Array.from([...b.subarray(0, at), ...piece, ...piece, ...b.subarray(at)]);
        break;
      }
    }
  }
  return Uint8Array.from(b);
}

/** Bytes derived from a valid encoding by 1..4 edits. */
export function mutatedArb(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([bytes, edits]) => mutate(bytes, edits));
}

/** Random bytes, biased towards short inputs where header edge cases live. */
export const anyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);

/** Unicode text without lone surrogates (so UTF-8 round trips are exact). */
export function text(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: 'grapheme', maxLength, minLength });
}

/**
 * Decodes each hostile input `repeat` times keeping every result alive, and asserts the growth of ArrayBuffer
 * memory stays near what the inputs justify: a decoder that allocated 64 KiB per call would add megabytes.
 */
export function assertNoBulkAllocation(name: string, decode: (b: Uint8Array) => unknown, inputs: readonly Uint8Array[], repeat = 200): void {
  const keep: unknown[] = [];
  const before = process.memoryUsage().arrayBuffers;
  let inputBytes = 0;
  for (let i = 0; i < repeat; i++) {
    for (const input of inputs) {
      keep.push(decode(input));
      inputBytes += input.length;
    }
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  // 2 MiB of slack for unrelated buffers (test runner IPC); 64 KiB * 200 calls would be 12.5 MiB.
  assert.ok(grown < 16 * inputBytes + 2 * 1024 * 1024, `${name}: ArrayBuffer memory grew ${grown} bytes for ${keep.length} decodes`);
}

/** `fc.record` with ordinary prototypes, so deepStrictEqual against decoded plain objects holds. */
export function rec<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }> {
  return fc.record(model, { noNullPrototype: true }) as never;
}
