import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionIdFor } from '../../../../functions/src/domain/session-id';

test('a session id is a version-8 UUID fixed by agent and ref, and differs when either differs', () => {
  const id = sessionIdFor('agent-1', 'ref-a');
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(sessionIdFor('agent-1', 'ref-a'), id, 'a retry names the same session');
  assert.notEqual(sessionIdFor('agent-2', 'ref-a'), id);
  assert.notEqual(sessionIdFor('agent-1', 'ref-b'), id);
  // The separator keeps the two parts apart: ('ab','c') is not ('a','bc').
  assert.notEqual(sessionIdFor('ab', 'c'), sessionIdFor('a', 'bc'));
});
