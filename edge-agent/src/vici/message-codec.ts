/**
 * VICI message encoding (strongSwan src/libcharon/plugins/vici/README.md, "Message format").
 *
 * A message is a tree: the implicit root section holds key/values, lists and sub-sections. In JS:
 * - a key/value is a `string` (UTF-8) or a `Buffer` (raw blob);
 * - a list is an array of strings/Buffers (lists do not nest and hold no sections);
 * - a section is a plain object.
 * Decoding yields a `string` for every value that is valid UTF-8 and a `Buffer` otherwise (e.g. DER
 * certificate data). Order matters to strongSwan in some places (auth rounds): objects keep insertion
 * order, except that integer-like keys ("0", "1") are always enumerated first, ascending.
 */
import { ViciDecodeError, ViciEncodeError } from './errors';

export type ViciScalar = string | Buffer;
export type ViciList = readonly ViciScalar[];
export type ViciValue = ViciScalar | ViciList | ViciSection;
export interface ViciSection {
  readonly [key: string]: ViciValue;
}
/** A whole message is the root section. */
export type ViciMessage = ViciSection;

/** Element types, README "Message format". */
export const ElementType = {
  SECTION_START: 1,
  SECTION_END: 2,
  KEY_VALUE: 3,
  LIST_START: 4,
  LIST_ITEM: 5,
  LIST_END: 6,
} as const;

/** Nesting limit for decoding untrusted input; real strongSwan messages stay well below 10. */
export const MAX_SECTION_DEPTH = 32;

const MAX_NAME = 0xff;
const MAX_VALUE = 0xffff;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes a message (the root section's elements; no packet header). Throws ViciEncodeError on bad input. */
export function encodeMessage(message: ViciMessage): Buffer {
  const parts: Buffer[] = [];
  encodeSection(message, parts, 0);
  return Buffer.concat(parts);
}

function encodeSection(section: ViciSection, parts: Buffer[], depth: number): void {
  if (depth > MAX_SECTION_DEPTH) throw new ViciEncodeError(`sections nested deeper than ${MAX_SECTION_DEPTH}`);
  for (const [key, value] of Object.entries(section)) {
    if (value === undefined) continue; // lets builders leave optional keys out
    if (isScalar(value)) {
      parts.push(Buffer.of(ElementType.KEY_VALUE), encodeName(key), encodeValue(key, value));
    } else if (Array.isArray(value)) {
      parts.push(Buffer.of(ElementType.LIST_START), encodeName(key));
      for (const item of value as readonly unknown[]) {
        if (!isScalar(item)) throw new ViciEncodeError(`list "${key}" may only hold strings or Buffers`);
        parts.push(Buffer.of(ElementType.LIST_ITEM), encodeValue(key, item));
      }
      parts.push(Buffer.of(ElementType.LIST_END));
    } else if (typeof value === 'object' && value !== null) {
      parts.push(Buffer.of(ElementType.SECTION_START), encodeName(key));
      encodeSection(value as ViciSection, parts, depth + 1);
      parts.push(Buffer.of(ElementType.SECTION_END));
    } else {
      throw new ViciEncodeError(`key "${key}": unsupported value type ${typeof value}`);
    }
  }
}

function isScalar(v: unknown): v is ViciScalar {
  return typeof v === 'string' || Buffer.isBuffer(v);
}

/** 8-bit length + name (README: ASCII, not null-terminated). */
export function encodeName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_NAME) {
    throw new ViciEncodeError(`name "${name.slice(0, 40)}" must be 1..${MAX_NAME} bytes`);
  }
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

function encodeValue(key: string, value: ViciScalar): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > MAX_VALUE) throw new ViciEncodeError(`value of "${key}" is longer than ${MAX_VALUE} bytes`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

interface Frame {
  readonly name: string;
  readonly section: Record<string, ViciValue>;
}

/** Decodes message bytes into a tree. Never throws; malformed input yields a ViciDecodeError. */
export function decodeMessage(bytes: Uint8Array): ViciMessage | ViciDecodeError {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root: Record<string, ViciValue> = {};
  const stack: Frame[] = [{ name: '', section: root }];
  let list: { name: string; items: ViciScalar[] } | undefined;
  let off = 0;
  while (off < buf.length) {
    const at = off;
    const type = buf[off++];
    const current = stack[stack.length - 1]!.section;
    if (list !== undefined && type !== ElementType.LIST_ITEM && type !== ElementType.LIST_END) {
      return new ViciDecodeError('bad-nesting', `element type ${type} inside list "${list.name}"`, at);
    }
    switch (type) {
      case ElementType.SECTION_START: {
        const name = readName(buf, off);
        if (name instanceof ViciDecodeError) return name;
        off = name.next;
        if (stack.length > MAX_SECTION_DEPTH) {
          return new ViciDecodeError('too-deep', `sections nested deeper than ${MAX_SECTION_DEPTH}`, at);
        }
        const section: Record<string, ViciValue> = {};
        const dup = put(current, name.value, section, at);
        if (dup) return dup;
        stack.push({ name: name.value, section });
        break;
      }
      case ElementType.SECTION_END:
        if (stack.length === 1) return new ViciDecodeError('bad-nesting', 'section end without a section', at);
        stack.pop();
        break;
      case ElementType.KEY_VALUE: {
        const name = readName(buf, off);
        if (name instanceof ViciDecodeError) return name;
        const value = readValue(buf, name.next);
        if (value instanceof ViciDecodeError) return value;
        off = value.next;
        const dup = put(current, name.value, value.value, at);
        if (dup) return dup;
        break;
      }
      case ElementType.LIST_START: {
        const name = readName(buf, off);
        if (name instanceof ViciDecodeError) return name;
        off = name.next;
        list = { name: name.value, items: [] };
        const dup = put(current, name.value, list.items, at);
        if (dup) return dup;
        break;
      }
      case ElementType.LIST_ITEM: {
        if (list === undefined) return new ViciDecodeError('bad-nesting', 'list item outside a list', at);
        const value = readValue(buf, off);
        if (value instanceof ViciDecodeError) return value;
        off = value.next;
        list.items.push(value.value);
        break;
      }
      case ElementType.LIST_END:
        if (list === undefined) return new ViciDecodeError('bad-nesting', 'list end without a list', at);
        list = undefined;
        break;
      default:
        return new ViciDecodeError('unknown-element', `unknown element type ${type}`, at);
    }
  }
  if (list !== undefined) return new ViciDecodeError('bad-nesting', `list "${list.name}" not closed`, off);
  if (stack.length > 1) return new ViciDecodeError('bad-nesting', `section "${stack[stack.length - 1]!.name}" not closed`, off);
  return root;
}

/** README "Key/Values": names are unique within a section. defineProperty keeps "__proto__" an ordinary key. */
function put(section: Record<string, ViciValue>, key: string, value: ViciValue, at: number): ViciDecodeError | undefined {
  if (Object.prototype.hasOwnProperty.call(section, key)) {
    return new ViciDecodeError('duplicate-key', `duplicate key "${key}"`, at);
  }
  Object.defineProperty(section, key, { value, enumerable: true, writable: true, configurable: true });
  return undefined;
}

/** Reads an 8-bit-length name at `off`. Exported for the packet codec. */
export function readName(buf: Buffer, off: number): { value: string; next: number } | ViciDecodeError {
  const len = buf[off];
  if (len === undefined) return new ViciDecodeError('truncated', 'missing name length', off);
  if (len === 0) return new ViciDecodeError('bad-name', 'empty name', off);
  if (off + 1 + len > buf.length) return new ViciDecodeError('truncated', `name of ${len} bytes overruns the input`, off);
  try {
    return { value: utf8.decode(buf.subarray(off + 1, off + 1 + len)), next: off + 1 + len };
  } catch {
    return new ViciDecodeError('bad-name', 'name is not valid UTF-8', off);
  }
}

function readValue(buf: Buffer, off: number): { value: ViciScalar; next: number } | ViciDecodeError {
  if (off + 2 > buf.length) return new ViciDecodeError('truncated', 'missing value length', off);
  const len = buf.readUInt16BE(off);
  if (off + 2 + len > buf.length) return new ViciDecodeError('truncated', `value of ${len} bytes overruns the input`, off);
  const raw = buf.subarray(off + 2, off + 2 + len);
  let value: ViciScalar;
  try {
    value = utf8.decode(raw);
  } catch {
    value = Buffer.from(raw); // a copy: the caller's input buffer may be reused
  }
  return { value, next: off + 2 + len };
}
