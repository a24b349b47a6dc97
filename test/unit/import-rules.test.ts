import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The modules each module loads at run time: its imports as the compiler emits them (imports of
 * types only are gone), resolved to files.
 */
function runtimeImports(file: string): string[] {
  const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const specs = [
    ...js.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm),
    ...js.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Strongly connected groups of more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(path.relative(SRC, w));
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('rules for src/', () => {
  const files = sources(SRC);
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));

  it('no module imports, at run time, a module that imports it back (directly or through others)', () => {
    assert.ok(files.length > 100, `found ${files.length} modules`);
    assert.deepEqual(cycles(graph), []);
  });

  it('no production module imports test code or reads a fault setting', () => {
    const outside = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => !d.startsWith(SRC)).map((d) => `${path.relative(SRC, f)} -> ${d}`),
    );
    assert.deepEqual(outside, []);
    const readers = files
      .filter((f) => /CUTTLE_(MOVE_)?FAULT|cuttle\.faults/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    // the symbol's definition, and the composition root that hands its hooks to the commands
    assert.deepEqual(readers, ['lib/faults.ts']);
    const rooted = files
      .filter((f) => fs.readFileSync(f, 'utf8').includes('FAULTS_GLOBAL'))
      .map((f) => path.relative(SRC, f))
      .sort();
    assert.deepEqual(rooted, ['cli/entry.ts', 'lib/faults.ts']);
  });
});
