/**
 * The project's import graph, read from the sources with the TypeScript parser, and the checks
 * import-graph.test.ts runs on it (STYLE.md habit 11: two deployables, one contract). Pure but for
 * `readImportGraph`, which reads a tree from disk, so the checks also run on synthetic graphs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

/** One import of one file: `to` is the imported file, relative to the root (posix separators). */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly specifier: string;
  readonly line: number;
}

export interface ImportGraph {
  readonly files: readonly string[];
  readonly edges: readonly ImportEdge[];
  /** Imports the graph cannot place: computed specifiers, unresolved relative paths, aliases of project folders. */
  readonly unplaced: readonly string[];
}

const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'dist', '.data']);
/** How a relative specifier may name a file: as written, without its extension, or as a folder. */
const CANDIDATES = ['', '.ts', '.tsx', '.d.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json', '/index.ts', '/index.js'];

/** Every module specifier in a source text, with its line; `undefined` for a computed one (`import(name)`). */
export function moduleSpecifiers(fileName: string, text: string): { readonly specifier: string | undefined; readonly line: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: { specifier: string | undefined; line: number }[] = [];
  const add = (node: ts.Node, literal: ts.Node | undefined) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ specifier: literal !== undefined && ts.isStringLiteralLike(literal) ? literal.text : undefined, line });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name) && node.name.text.startsWith('.')) {
      add(node, node.name); // augmenting a project file (`declare module './x'`) depends on it
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const ref of source.referencedFiles) {
    found.push({ specifier: ref.fileName.startsWith('.') ? ref.fileName : `./${ref.fileName}`, line: source.getLineAndCharacterOfPosition(ref.pos).line + 1 });
  }
  return found;
}

/**
 * The root-relative file a specifier names, or `undefined` for a package. A relative specifier that
 * names no file keeps its joined path (so its folder still counts), with `resolved: false`.
 */
export function resolveSpecifier(root: string, from: string, specifier: string): { readonly path: string; readonly resolved: boolean } | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier));
  const bases = [joined, joined.replace(/\.[cm]?js$/, '')];
  for (const base of bases) {
    for (const suffix of CANDIDATES) {
      const candidate = base + suffix;
      if (existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile()) return { path: candidate, resolved: true };
    }
  }
  return { path: joined, resolved: false };
}

function sourceFiles(root: string, dir: string, out: string[] = []): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return out;
  for (const name of readdirSync(abs).sort()) {
    const rel = posix.join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) {
      if (!SKIP_DIRS.has(name)) sourceFiles(root, rel, out);
    } else if (SOURCE.test(name)) {
      out.push(rel);
    }
  }
  return out;
}

/** Reads the imports of every source file under `dirs` (relative to `root`). */
export function readImportGraph(root: string, dirs: readonly string[], projectFolders: readonly string[]): ImportGraph {
  const files = dirs.flatMap((dir) => sourceFiles(root, dir));
  const edges: ImportEdge[] = [];
  const unplaced: string[] = [];
  for (const from of files) {
    for (const { specifier, line } of moduleSpecifiers(from, readFileSync(join(root, from), 'utf8'))) {
      if (specifier === undefined) {
        unplaced.push(`${from}:${line}: an import with a computed specifier`);
        continue;
      }
      const target = resolveSpecifier(root, from, specifier);
      if (target === undefined) {
        // A bare name that is a project folder would be an alias (tsconfig paths, baseUrl) around these checks.
        if (projectFolders.includes(specifier.split('/')[0]!)) unplaced.push(`${from}:${line}: '${specifier}' names a project folder without a relative path`);
        continue;
      }
      if (!target.resolved) unplaced.push(`${from}:${line}: '${specifier}' names no file`);
      edges.push({ from, to: target.path, specifier, line });
    }
  }
  return { files, edges, unplaced };
}

/** The top-level folder of a root-relative path: the part of the project it belongs to. */
export function areaOf(path: string): string {
  return path.split('/')[0]!;
}

/** Which areas each checked area may import (itself included); areas not listed are not checked. */
export type AllowedImports = Readonly<Record<string, readonly string[]>>;

/** Every edge from a checked area into an area it may not import, as readable lines. */
export function forbiddenImports(edges: readonly ImportEdge[], allowed: AllowedImports): string[] {
  return edges
    .filter((e) => {
      const may = allowed[areaOf(e.from)];
      return may !== undefined && !may.includes(areaOf(e.to));
    })
    .map((e) => `${e.from}:${e.line} imports ${e.to} ('${e.specifier}'): ${areaOf(e.from)} may import only ${allowed[areaOf(e.from)]!.join(', ')}`);
}

/** The layer (folder prefix) a file belongs to, or the file itself when it is in none. */
function nodeOf(path: string, layers: readonly string[]): string {
  return layers.find((layer) => path.startsWith(`${layer}/`)) ?? path;
}

/**
 * Import loops that join two or more `layers` (folders), directly or through other files: each
 * folder counts as one node; with no layers, every file is one (loops between files). Returns the
 * loops, each as the edges between its nodes.
 */
export function layerCycles(edges: readonly ImportEdge[], layers: readonly string[]): ImportEdge[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = nodeOf(e.from, layers);
    const b = nodeOf(e.to, layers);
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v);
  return components
    .filter((c) => (layers.length === 0 ? c.length : c.filter((node) => layers.includes(node)).length) >= 2)
    .map((c) => edges.filter((e) => c.includes(nodeOf(e.from, layers)) && c.includes(nodeOf(e.to, layers)) && nodeOf(e.from, layers) !== nodeOf(e.to, layers)));
}
