/** Tables and records for people (cli/src/table.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cellText, renderRecord, renderTable } from '../../../cli/src/table';

describe('CLI tables', () => {
  test('columns are aligned to the widest cell; absent values are "-"', () => {
    const text = renderTable(
      [{ id: 'acme', n: 3 }, { id: 'globex-long', n: undefined }],
      [{ header: 'TENANT', value: (r) => r.id }, { header: 'N', value: (r) => r.n }],
    );
    assert.equal(text, 'TENANT       N\nacme         3\nglobex-long  -\n');
  });

  test('no rows is "(none)"', () => {
    assert.equal(renderTable([], [{ header: 'X', value: () => 1 }]), '(none)\n');
  });

  test('cells: lists comma-joined, booleans yes/no, control characters escaped', () => {
    assert.equal(cellText(['a', 'b']), 'a,b');
    assert.equal(cellText([]), '-');
    assert.equal(cellText(true), 'yes');
    assert.equal(cellText(false), 'no');
    assert.equal(cellText('evil\x1b[2Jname\n'), 'evil\\x1b[2Jname\\x0a');
  });

  test('a record is key: value lines', () => {
    assert.equal(renderRecord({ tenantId: 'acme', maxSessions: 5, authMethods: ['pap'] }), 'tenantId:    acme\nmaxSessions: 5\nauthMethods: pap\n');
  });
});
