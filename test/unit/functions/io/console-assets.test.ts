import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConsoleAssets } from '../../../../functions/src/io/console-assets';

test('reads a complete console; none is undefined; a partial one is an error naming what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
  try {
    assert.equal(readConsoleAssets(dir), undefined);
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    assert.throws(() => readConsoleAssets(dir), /incomplete: missing app\.js, app\.css/);
    writeFileSync(join(dir, 'app.js'), 'export {}');
    writeFileSync(join(dir, 'app.css'), 'body{}');
    const assets = readConsoleAssets(dir)!;
    assert.equal(Buffer.from(assets['app.css']).toString(), 'body{}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
