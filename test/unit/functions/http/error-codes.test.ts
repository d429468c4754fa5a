/**
 * Issue 18: every error is of the documented family. The codes live in one table
 * (functions/src/error-codes.ts; BrokerError accepts no other), each with a hint, and docs/api.md
 * lists each of them: a code added without its documentation, or documentation left for a code
 * that is gone, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, ERROR_HINTS } from '../../../../functions/src/error-codes';

const apiDoc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');
const familySection = apiDoc.slice(apiDoc.indexOf('## Errors'), apiDoc.indexOf('## Operator routes'));

test('docs/api.md lists every error code of the family, and no other', () => {
  const documented = new Set([...familySection.matchAll(/^\| (`[a-z-]+`(?:, `[a-z-]+`)*) \|/gm)].flatMap((m) => m[1]!.split(", ").map((c) => c.slice(1, -1))));
  assert.deepEqual(ERROR_CODES.filter((c) => !documented.has(c)), [], 'codes missing from the table in docs/api.md "## Errors"');
  assert.deepEqual([...documented].filter((c) => !(c in ERROR_HINTS)), [], 'documented codes the broker no longer has');
});

test('every code has a hint that says what to do', () => {
  for (const code of ERROR_CODES) assert.ok(ERROR_HINTS[code].length >= 20, code);
});
