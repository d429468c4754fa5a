/**
 * Two deployables, one contract (STYLE.md habit 11): the edge agent and the broker share only
 * contract/, which imports neither; the broker does not import the CDK app; the broker's store and
 * domain do not import each other in a loop. Read from every import of the source trees.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forbiddenImports, layerCycles, moduleSpecifiers, readImportGraph, type AllowedImports, type ImportEdge } from './import-graph';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHECKED = ['contract', 'functions', 'edge-agent', 'infra', 'cli', 'console'];
const PROJECT_FOLDERS = [...CHECKED, 'scripts', 'test', 'bin'];

/** Which parts each part may import. scripts/, test/ and bin/ may import anything. */
const ALLOWED: AllowedImports = {
  contract: ['contract'],
  'edge-agent': ['edge-agent', 'contract'],
  functions: ['functions', 'contract'],
  // The operator CLI talks to the broker over HTTP only: it shares the contract, not the broker's code.
  cli: ['cli', 'contract'],
  // The web console runs in a browser and talks to the broker over HTTP only: it imports nothing of ours.
  console: ['console'],
  // The CDK app builds the table from the broker's definition and schedules its jobs; its entry point
  // (infra/bin/app.ts) runs the bundle build (scripts/build-bundles.ts) before it synthesizes.
  infra: ['infra', 'functions', 'contract', 'scripts'],
};

const STORE = 'functions/src/store';
const DOMAIN = 'functions/src/domain';
/** The in-memory Store: for unit tests of domain logic only (the project's ground rules). */
const MEMORY_STORE = `${STORE}/memory`;
/** Helpers of the domain's unit tests (they build services on the in-memory store). */
const DOMAIN_TEST_HELPERS = 'test/support/domain';

describe('the import graph of the project', () => {
  const graph = readImportGraph(ROOT, CHECKED, PROJECT_FOLDERS);

  test('is read whole: every import is placed, and the imports of the contract are among them', () => {
    assert.deepEqual(graph.unplaced, []);
    assert.ok(graph.files.length > 200, `only ${graph.files.length} source files read`);
    const into = (from: string) => graph.edges.filter((e) => e.from.startsWith(`${from}/`) && e.to.startsWith('contract/')).length;
    assert.ok(into('edge-agent') > 0 && into('functions') > 0 && into('infra') > 0, 'every deployable imports the contract');
  });

  test('edge-agent, functions, infra and contract import only what they may', () => {
    assert.deepEqual(forbiddenImports(graph.edges, ALLOWED), []);
  });

  test('no import loop joins functions/src/store and functions/src/domain: the domain owns the Store interface', () => {
    assert.deepEqual(layerCycles(graph.edges, [STORE, DOMAIN]), []);
  });

  test('no import loop between any two files of the agent, the broker, the contract or the CDK app', () => {
    assert.deepEqual(layerCycles(graph.edges, []), []);
  });

  test('only unit tests import the in-memory store: the functions, the local stack and integration tests run on DynamoDB', () => {
    const everything = readImportGraph(ROOT, PROJECT_FOLDERS, PROJECT_FOLDERS);
    const importers = everything.edges.filter((e) => e.to.startsWith(`${MEMORY_STORE}/`) && !e.from.startsWith(`${MEMORY_STORE}/`)).map((e) => e.from);
    assert.ok(importers.some((f) => f.startsWith('test/unit/')), 'the contract suite runs it from test/unit');
    // Besides unit tests, only the domain unit tests' helpers, which only unit tests import.
    assert.deepEqual(importers.filter((f) => !f.startsWith('test/unit/') && !f.startsWith(`${DOMAIN_TEST_HELPERS}/`)), []);
    const helperUsers = everything.edges.filter((e) => e.to.startsWith(`${DOMAIN_TEST_HELPERS}/`) && !e.from.startsWith(`${DOMAIN_TEST_HELPERS}/`)).map((e) => e.from);
    assert.deepEqual(helperUsers.filter((f) => !f.startsWith('test/unit/')), []);
  });
});

describe('the import checks catch what they are for (negative controls)', () => {
  test('a loop between two files is found with no layers given; a one-way import is not', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to, line: 1 });
    assert.equal(layerCycles([edge('functions/src/domain/a.ts', 'functions/src/domain/b.ts'), edge('functions/src/domain/b.ts', 'functions/src/domain/a.ts')], []).length, 1);
    assert.deepEqual(layerCycles([edge('functions/src/domain/a.ts', 'functions/src/domain/b.ts')], []), []);
  });

  test('every form of import is read, a computed one as such', () => {
    const text = [
      '/// <reference path="./k.d.ts" />',
      "import a from './a';",
      "import type { B } from '../b';",
      "import './side-effect';",
      "export * from './c';",
      "export { d } from './d';",
      "import e = require('./e');",
      "const f = await import('./f');",
      "const g = require('./g');",
      "type H = import('./h').H;",
      "declare module './i' { interface I { x: number } }",
      'const name = "./j"; await import(name);',
      "import { z } from 'zod';",
    ].join('\n');
    const found = moduleSpecifiers('x.ts', text).map((s) => s.specifier);
    assert.deepEqual(found.sort(), ['../b', './a', './c', './d', './e', './f', './g', './h', './i', './k.d.ts', './side-effect', 'zod', undefined].sort());
  });

  test('a synthetic tree with every forbidden direction is reported, edge by edge, and its allowed imports are not', () => {
    const root = mkdtempSync(join(tmpdir(), 'import-graph-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('contract/src/a.ts', "import { b } from '../../functions/src/b';\nimport { z } from 'zod';\nexport const a = b;\n");
      write('edge-agent/src/x.ts', "import { b } from '../../functions/src/b';\nimport type { C } from '../../infra/lib/c';\nimport { a } from '../../contract/src/a';\n");
      write('functions/src/b.ts', "export const b = 1;\nexport * from '../../edge-agent/src/x';\nexport async function c() { return import('../../infra/lib/c'); }\n");
      write('functions/src/d.ts', "import { a } from '../../contract/src/a';\n");
      write('infra/lib/c.ts', "import { b } from '../../functions/src/b';\nimport { a } from '../../contract/src/a';\nexport type C = number;\n");
      const graph = readImportGraph(root, CHECKED, PROJECT_FOLDERS);
      assert.deepEqual(graph.unplaced, []);
      const reported = forbiddenImports(graph.edges, ALLOWED).map((line) => line.split(' (')[0]);
      assert.deepEqual(reported.sort(), [
        'contract/src/a.ts:1 imports functions/src/b.ts',
        'edge-agent/src/x.ts:1 imports functions/src/b.ts',
        'edge-agent/src/x.ts:2 imports infra/lib/c.ts',
        'functions/src/b.ts:2 imports edge-agent/src/x.ts',
        'functions/src/b.ts:3 imports infra/lib/c.ts',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('imports that would slip past the checks are reported as unplaced', () => {
    const root = mkdtempSync(join(tmpdir(), 'import-graph-'));
    try {
      mkdirSync(join(root, 'edge-agent'), { recursive: true });
      writeFileSync(join(root, 'edge-agent/x.ts'), "const m = 'y'; await import(m);\nimport { b } from '../functions/src/gone';\nimport { c } from 'functions/src/c';\n");
      const graph = readImportGraph(root, CHECKED, PROJECT_FOLDERS);
      assert.deepEqual(graph.unplaced, [
        'edge-agent/x.ts:1: an import with a computed specifier',
        "edge-agent/x.ts:2: '../functions/src/gone' names no file",
        "edge-agent/x.ts:3: 'functions/src/c' names a project folder without a relative path",
      ]);
      // The missing file still counts by its folder.
      assert.equal(forbiddenImports(graph.edges, ALLOWED).length, 1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a store/domain loop is found, directly or through another file; a one-way dependency is not a loop', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to, line: 1 });
    const oneWay = [edge(`${STORE}/dynamo/ops.ts`, `${DOMAIN}/types.ts`), edge(`${DOMAIN}/a.ts`, `${DOMAIN}/types.ts`)];
    assert.deepEqual(layerCycles(oneWay, [STORE, DOMAIN]), []);
    const direct = [...oneWay, edge(`${DOMAIN}/a.ts`, `${STORE}/store.ts`)];
    assert.equal(layerCycles(direct, [STORE, DOMAIN]).length, 1);
    assert.deepEqual(
      layerCycles(direct, [STORE, DOMAIN])[0]!.map((e) => e.from).sort(),
      [`${DOMAIN}/a.ts`, `${STORE}/dynamo/ops.ts`],
    );
    // Through a file outside both layers: the loop issue 17 found through the old functions/src/config.ts.
    const throughConfig = [...oneWay, edge(`${DOMAIN}/a.ts`, 'functions/src/config/broker.ts'), edge('functions/src/config/broker.ts', `${STORE}/table-definition.ts`)];
    assert.equal(layerCycles(throughConfig, [STORE, DOMAIN]).length, 1);
  });
});
