import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  encodeMessage,
  isViciDecodeError,
  MAX_SECTION_DEPTH,
  ViciDecodeError,
  ViciEncodeError,
  type ViciMessage,
} from '../../../../edge-agent/src/vici';

const ascii = (s: string) => [...Buffer.from(s, 'ascii')];

// The README "Encoding example", byte for byte.
const README_BYTES = Buffer.from([
  3, 4, ...ascii('key1'), 0, 6, ...ascii('value1'),
  1, 8, ...ascii('section1'),
  1, 11, ...ascii('sub-section'),
  3, 4, ...ascii('key2'), 0, 6, ...ascii('value2'),
  2,
  4, 5, ...ascii('list1'),
  5, 0, 5, ...ascii('item1'),
  5, 0, 5, ...ascii('item2'),
  6,
  2,
]);
const README_TREE: ViciMessage = {
  key1: 'value1',
  section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] },
};

describe('VICI message codec: README example', () => {
  test('encodes to the README bytes', () => {
    assert.deepEqual(encodeMessage(README_TREE), README_BYTES);
  });
  test('decodes the README bytes', () => {
    assert.deepEqual(decodeMessage(README_BYTES), README_TREE);
  });
});

describe('VICI message codec: round trips', () => {
  const cases: Array<[string, ViciMessage]> = [
    ['empty message', {}],
    ['empty value, empty list, empty section', { a: '', l: [], s: {} }],
    ['binary value that is not UTF-8', { der: Buffer.from([0x30, 0x82, 0xff, 0x00]) }],
    ['UTF-8 value', { msg: 'grüße ✓' }],
    ['max-length value', { big: 'x'.repeat(0xffff) }],
    ['255-byte name', { ['k'.repeat(255)]: 'v' }],
    ['a key named __proto__ stays data', JSON.parse('{"__proto__": {"x": "1"}, "y": "2"}') as ViciMessage],
    ['deep but allowed', nest(MAX_SECTION_DEPTH)],
  ];
  for (const [name, tree] of cases) {
    test(name, () => {
      const decoded = decodeMessage(encodeMessage(tree));
      assert.ok(!isViciDecodeError(decoded), String(decoded));
      assert.deepEqual(decoded, tree);
    });
  }
  test('order of keys is preserved', () => {
    const decoded = decodeMessage(encodeMessage({ 'remote-2': { a: '1' }, local: { b: '2' }, 'remote-1': { c: '3' } }));
    assert.deepEqual(Object.keys(decoded as object), ['remote-2', 'local', 'remote-1']);
  });
  test('a __proto__ key does not touch the prototype', () => {
    const bytes = Buffer.from([1, 9, ...ascii('__proto__'), 3, 1, ...ascii('x'), 0, 1, ...ascii('1'), 2]);
    const decoded = decodeMessage(bytes) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.deepEqual(Object.keys(decoded), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

function nest(depth: number): ViciMessage {
  let m: ViciMessage = { leaf: 'v' };
  for (let i = 0; i < depth; i++) m = { s: m };
  return m;
}

describe('VICI message codec: malformed input is an error value', () => {
  const bad: Array<[string, number[], ViciDecodeError['code']]> = [
    ['unknown element type', [9], 'unknown-element'],
    ['element type 0', [0], 'unknown-element'],
    ['key without name length', [3], 'truncated'],
    ['name overruns', [3, 5, ...ascii('ab')], 'truncated'],
    ['empty name', [3, 0, 0, 0], 'bad-name'],
    ['value length missing', [3, 1, ...ascii('k'), 0], 'truncated'],
    ['value overruns', [3, 1, ...ascii('k'), 0, 9, ...ascii('abc')], 'truncated'],
    ['section end at root', [2], 'bad-nesting'],
    ['unclosed section', [1, 1, ...ascii('s')], 'bad-nesting'],
    ['unclosed list', [4, 1, ...ascii('l'), 5, 0, 1, ...ascii('a')], 'bad-nesting'],
    ['list item outside list', [5, 0, 1, ...ascii('a')], 'bad-nesting'],
    ['list end without list', [6], 'bad-nesting'],
    ['key/value inside a list', [4, 1, ...ascii('l'), 3, 1, ...ascii('k'), 0, 0, 6], 'bad-nesting'],
    ['section inside a list', [4, 1, ...ascii('l'), 1, 1, ...ascii('s'), 2, 6], 'bad-nesting'],
    ['nested list', [4, 1, ...ascii('l'), 4, 1, ...ascii('m'), 6, 6], 'bad-nesting'],
    ['duplicate key', [3, 1, ...ascii('k'), 0, 0, 3, 1, ...ascii('k'), 0, 0], 'duplicate-key'],
    ['section shadowing a key', [3, 1, ...ascii('k'), 0, 0, 1, 1, ...ascii('k'), 2], 'duplicate-key'],
    ['name not UTF-8', [3, 1, 0xff, 0, 0], 'bad-name'],
  ];
  for (const [name, bytes, code] of bad) {
    test(name, () => {
      const result = decodeMessage(Buffer.from(bytes));
      assert.ok(isViciDecodeError(result), `expected an error, got ${JSON.stringify(result)}`);
      assert.equal(result.code, code);
    });
  }
  test('excessive depth', () => {
    const opens = Array.from({ length: MAX_SECTION_DEPTH + 1 }, () => [1, 1, ...ascii('s')]).flat();
    const closes = Array.from({ length: MAX_SECTION_DEPTH + 1 }, () => 2);
    const result = decodeMessage(Buffer.from([...opens, ...closes]));
    assert.ok(isViciDecodeError(result));
    assert.equal(result.code, 'too-deep');
  });
  test('every truncation of a valid message is an error, never a throw', () => {
    for (let cut = 1; cut < README_BYTES.length; cut++) {
      const result = decodeMessage(README_BYTES.subarray(0, cut));
      // A cut exactly after "key1 = value1" is itself a valid message.
      if (cut === 14) assert.deepEqual(result, { key1: 'value1' });
      else assert.ok(isViciDecodeError(result), `cut at ${cut}`);
    }
  });
});

describe('VICI message codec: encoding errors', () => {
  test('name too long', () => assert.throws(() => encodeMessage({ ['k'.repeat(256)]: 'v' }), ViciEncodeError));
  test('empty name', () => assert.throws(() => encodeMessage({ '': 'v' }), ViciEncodeError));
  test('value too long', () => assert.throws(() => encodeMessage({ k: 'x'.repeat(0x10000) }), ViciEncodeError));
  test('section in a list', () => assert.throws(() => encodeMessage({ l: [{} as unknown as string] }), ViciEncodeError));
  test('number value', () => assert.throws(() => encodeMessage({ n: 1 as unknown as string }), ViciEncodeError));
  test('too deep', () => assert.throws(() => encodeMessage(nest(MAX_SECTION_DEPTH + 1)), ViciEncodeError));
});
