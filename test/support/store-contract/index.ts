/**
 * The one Store contract suite (STYLE.md habit 5; hono's common.case.test.ts): every Store
 * implementation runs these cases, the DynamoDB store on DynamoDB Local
 * (test/integration/store/dynamo-store.test.ts) and the in-memory one of the domain's unit tests
 * (test/unit/functions/store/memory/in-memory-store.test.ts), so the two cannot drift.
 */
import { describe } from 'node:test';
import { accountingCases } from './accounting-cases';
import { directoryCases } from './directory-cases';
import type { OpenStore } from './open-store';
import { sessionCases } from './session-cases';

export type { OpenStore, StoreUnderTest } from './open-store';

/** Registers the whole contract for one implementation. */
export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract (${name}): directory`, () => directoryCases(open));
  describe(`Store contract (${name}): sessions`, () => sessionCases(open));
  describe(`Store contract (${name}): RADIUS accounting`, () => accountingCases(open));
}
