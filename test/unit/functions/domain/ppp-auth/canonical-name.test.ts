import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalUsername, lookupNames } from '../../../../../functions/src/domain/ppp-auth';

describe('canonicalUsername (issue 14 #11)', () => {
  const same: Array<[string, string]> = [
    ['alice', 'alice'],
    ['ALICE', 'alice'],
    ['Alice', 'alice'],
    ['ａｌｉｃｅ', 'alice'], // fullwidth (NFKC)
    ['JÜRGEN', 'jürgen'],
    ['JU\u0308RGEN', 'jürgen'], // decomposed umlaut (NFC part of NFKC)
    ['STRASSE', 'strasse'],
    ['straße', 'strasse'], // full case fold
    ['ﬁnn', 'finn'], // ligature
    ['ΣΑΣ', 'σας'],
    ['bob@example.com', 'bob@example.com'],
    ['john smith', 'john smith'],
    ['a\u00a0b', 'a b'], // no-break space is a compatibility space
    ['田中さん', '田中さん'],
    ['Tanakaたなか', 'tanakaたなか'],
  ];
  for (const [input, canonical] of same) {
    test(`${JSON.stringify(input)} -> ${JSON.stringify(canonical)}`, () => assert.deepEqual(canonicalUsername(input), { ok: true, name: canonical }));
  }

  const refused: Array<[string, string]> = [
    ['аlice', 'mixed-script'], // Cyrillic а, Latin lice
    ['pаypal', 'mixed-script'],
    ['αlice', 'mixed-script'], // Greek alpha
    ['alice\u200b', 'invisible-character'], // zero-width space
    ['al\u200dice', 'invisible-character'], // zero-width joiner
    ['alice\u00ad', 'invisible-character'], // soft hyphen
    ['alice\ufe0f', 'invisible-character'], // variation selector
    ['\u2060alice', 'invisible-character'], // word joiner
    ['alice\u202e', 'invisible-character'], // right-to-left override
    ['alice\u3164', 'invisible-character'], // Hangul filler
    ['alice\u2800', 'invisible-character'], // Braille blank
    ['alice\ue000', 'invisible-character'], // private use
    [' alice', 'invisible-character'],
    ['alice ', 'invisible-character'],
    ['ali\u2028ce', 'invisible-character'],
    ['alice\t', 'control-character'],
    ['alice\u0085', 'control-character'],
    ['a\\b', 'separator'],
    ['\u0301alice', 'leading-mark'],
    ['', 'empty'],
    ['x'.repeat(129), 'too-long'],
  ];
  for (const [input, problem] of refused) {
    test(`refuses ${JSON.stringify(input)} (${problem})`, () => {
      const result = canonicalUsername(input);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.problem, problem);
    });
  }

  test('the canonical form is a fixed point, and equal inputs up to case and compatibility map together', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        const c = canonicalUsername(s);
        if (!c.ok) return;
        assert.deepEqual(canonicalUsername(c.name), c);
        const upper = canonicalUsername(s.toUpperCase());
        if (upper.ok) assert.equal(upper.name, c.name);
      }),
      { numRuns: 2000 },
    );
  });

  test('lookups: canonical first, then the name as given (users stored before canonical names)', () => {
    assert.deepEqual(lookupNames('alice'), ['alice']);
    assert.deepEqual(lookupNames('Alice'), ['alice', 'Alice']);
    assert.deepEqual(lookupNames('alice\u200b'), ['alice\u200b']);
  });
});
