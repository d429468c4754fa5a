/** The `users import` file (cli/src/csv.ts): RFC 4180 CSV with a header; every bad line named at once. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUsersCsv, splitCsv } from '../../../cli/src/csv';

describe('users import CSV', () => {
  test('a header in any order, optional columns, quoted fields with commas, quotes and CRLF', () => {
    const parsed = parseUsersCsv('password,username,chapMd5,staticIp\r\n"pa,ss ""word""",alice,true,10.8.0.9\r\nsecret-two,bob,,\r\n\r\n');
    assert.deepEqual(parsed, {
      ok: true,
      rows: [
        { line: 2, username: 'alice', password: 'pa,ss "word"', staticIp: '10.8.0.9', chapMd5: true },
        { line: 3, username: 'bob', password: 'secret-two' },
      ],
    });
  });

  test('a quoted line break stays in the field and lines are counted past it', () => {
    const records = splitCsv('a,b\n"x\ny",z\nlast,row\n');
    assert.deepEqual(records, [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ny', 'z'] },
      { line: 4, fields: ['last', 'row'] },
    ]);
  });

  test('bad files: every problem is listed with its line, and nothing is returned to import', () => {
    assert.deepEqual(parseUsersCsv(''), { ok: false, errors: ['the file is empty; the first line names the columns: username,password[,staticIp][,chapMd5]'] });
    assert.deepEqual(parseUsersCsv('user,password\n'), { ok: false, errors: ['line 1: unknown column "user" (known: username, password, staticIp, chapMd5)', 'line 1: no "username" column'] });
    const bad = parseUsersCsv('username,password,chapMd5\nalice,pw-one,yes\n,pw-two,\ncarol\n"dave,pw\n');
    assert.equal(bad.ok, false);
    assert.deepEqual(parseUsersCsv('username,password\n"dave,pw\n'), { ok: false, errors: ['line 2: a quoted field is not closed'] });
    const errors = (parseUsersCsv('username,password,chapMd5\nalice,pw-one,yes\n,pw-two,\ncarol\n') as { errors: string[] }).errors;
    assert.deepEqual(errors, ['line 2: chapMd5 is "yes", not true or false', 'line 3: empty username', 'line 4: 1 fields, the header has 3']);
  });

  test('a byte-order mark before the header is ignored', () => {
    assert.equal(parseUsersCsv('\uFEFFusername,password\na,b-password\n').ok, true);
  });
});
