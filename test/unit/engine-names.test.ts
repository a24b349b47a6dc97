import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * "A service never compares engine names": every difference between the engines lives in
 * src/storage/dialects/ (and connection strings are parsed in src/config/). This test reads the
 * sources and fails on any comparison of an engine name, or of an `engine` value, anywhere else.
 *
 * Strings and comments are blanked first (codeOf), so a message or a comment that quotes
 * `engine === 'sqlite'` is not code; a string literal that is exactly an engine name is kept,
 * because that is what a comparison compares with.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ALLOWED = ['storage/dialects/', 'config/'];
const NAMES = ['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb'];
const NAME = `(?:${NAMES.join('|')})`;

/** What counts as comparing an engine, each with the words a failure prints. */
const RULES: { what: string; re: RegExp }[] = [
  { what: 'compares with an engine name', re: new RegExp(`[=!]==?\\s*'${NAME}'|'${NAME}'\\s*[=!]==?`) },
  { what: 'has a case for an engine name', re: new RegExp(`\\bcase\\s+'${NAME}'\\s*:`) },
  { what: 'compares an engine', re: /\bengine\s*[=!]==?|[=!]==?\s*[\w.?]*\bengine\b(?!\s*\()/ },
  { what: 'switches on an engine', re: /\bswitch\s*\(\s*[\w.?]*\bengine\s*\)/ },
  { what: 'looks an engine up in a list', re: /\.includes\(\s*[\w.?]*\bengine\s*\)|\bengine\s+in\b/ },
  { what: 'keeps a table keyed by engine names', re: new RegExp(`(?:^|[{,])\\s*'?${NAME}'?\\s*:`) },
];

/**
 * The source with comments removed and string contents blanked (newlines kept, so line numbers
 * hold), except string literals that are exactly an engine name. Template literals keep their
 * `${...}` code. Regular expression literals are blanked too (they may hold quotes).
 */
export function codeOf(src: string): string {
  let out = '';
  let i = 0;
  // one entry per open template literal expression: the brace depth inside it
  const templates: number[] = [];
  let last = ''; // the last significant code character, to tell a regex from a division
  const keepNewlines = (s: string) => s.replace(/[^\n]/g, '');
  const engineLiteral = (body: string) => NAMES.includes(body);
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += keepNewlines(src.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      const body = src.slice(i + 1, j);
      out += engineLiteral(body) ? `'${body}'` : "''";
      i = j + 1;
      last = "'";
      continue;
    }
    if (c === '`' || (c === '}' && templates.length && templates[templates.length - 1] === 0)) {
      // template text, from its opening backtick (or the `}` closing an expression) to the next
      // backtick or `${`
      if (c === '}') templates.pop();
      let j = i + 1;
      while (j < src.length && src[j] !== '`' && !(src[j] === '$' && src[j + 1] === '{'))
        j += src[j] === '\\' ? 2 : 1;
      const body = src.slice(i + 1, j);
      const whole = c === '`' && src[j] === '`';
      out += whole && engineLiteral(body) ? `'${body}'` : `'${keepNewlines(body)}'`;
      if (src[j] === '`') i = j + 1;
      else {
        templates.push(0);
        i = j + 2;
      }
      last = "'";
      continue;
    }
    if (
      c === '/' &&
      (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last) || /\breturn\s*$/.test(out.slice(-12)))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n' && (inClass || src[j] !== '/')) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      while (j + 1 < src.length && /[a-z]/.test(src[j + 1]!)) j++;
      out += '/regex/';
      i = j + 1;
      last = '/';
      continue;
    }
    if (templates.length) {
      if (c === '{') templates[templates.length - 1]!++;
      else if (c === '}') templates[templates.length - 1]!--;
    }
    out += c;
    if (!/\s/.test(c)) last = c;
    i++;
  }
  return out;
}

export interface Finding {
  file: string;
  line: number;
  what: string;
  text: string;
}

/** Every comparison of an engine in one source text. */
export function findComparisons(file: string, src: string): Finding[] {
  const found: Finding[] = [];
  const code = codeOf(src).split('\n');
  const lines = src.split('\n');
  code.forEach((line, n) => {
    for (const rule of RULES) {
      if (rule.re.test(line)) found.push({ file, line: n + 1, what: rule.what, text: lines[n]!.trim() });
    }
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function scan(filter: (rel: string) => boolean): Finding[] {
  const found: Finding[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(SRC, file).split(path.sep).join('/');
    if (filter(rel)) found.push(...findComparisons(rel, fs.readFileSync(file, 'utf8')));
  }
  return found;
}

const allowed = (rel: string) => ALLOWED.some((a) => rel.startsWith(a));

describe('engine names', () => {
  it('are compared nowhere outside src/storage/dialects/ and src/config/', () => {
    const found = scan((rel) => !allowed(rel));
    assert.deepEqual(
      found.map((f) => `src/${f.file}:${f.line} ${f.what}: ${f.text}`),
      [],
      'move the difference behind a capability of Dialect / DialectFactory (src/storage/dialects/)',
    );
  });

  it('the scan reaches the sources: it finds the comparisons the allowed folders make', () => {
    const found = scan(allowed);
    assert.ok(
      found.some(
        (f) => f.file === 'config/connection-string.ts' && f.what === 'compares with an engine name',
      ),
    );
    assert.ok(found.some((f) => f.file === 'storage/dialects/registry.ts'));
    assert.ok(found.some((f) => f.file.startsWith('storage/dialects/sqlite/')));
  });

  it('finds each kind of comparison in a sample line', () => {
    const samples: [string, string][] = [
      ["if (target.engine === 'sqlite') mkdir(target.file);", 'compares with an engine name'],
      ["const x = 'postgres' !== kind ? 1 : 2;", 'compares with an engine name'],
      ['if (engine == "mysql") return;', 'compares with an engine name'],
      ['const q = engine === `mariadb` ? a : b;', 'compares with an engine name'],
      ["    case 'mysql':", 'has a case for an engine name'],
      ['if (a.engine !== b.engine) return false;', 'compares an engine'],
      ['const same = kind === storage.engine;', 'compares an engine'],
      ['switch (storage.target.engine) {', 'switches on an engine'],
      ["if (['sqlite', 'mysql'].includes(t.engine)) {}", 'looks an engine up in a list'],
      ['const n = { sqlite: 1, postgres: 2 }[engine];', 'keeps a table keyed by engine names'],
      ["const n = { 'mysql': 1 }[kind];", 'keeps a table keyed by engine names'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      ['const msg = `${t.engine === "sqlite" ? "file" : "server"}`;', 'compares with an engine name'],
    ];
    for (const [line, what] of samples) {
      const found = findComparisons('sample.ts', line);
      assert.ok(
        found.some((f) => f.what === what),
        `${line} -> ${what} (found: ${found.map((f) => f.what).join(', ') || 'nothing'})`,
      );
    }
  });

  it('ignores engine names in messages, comments and regular expressions, and names that are not compared', () => {
    const clean = [
      "throw new PreconditionError('SQLite has no users: engine === \\'sqlite\\' is not a user.');",
      'const m = "a move from sqlite === postgres is not a thing";',
      "// if (engine === 'sqlite') this comment is not code",
      "/* case 'mysql': */ const a = 1;",
      "const t: ConnectionTarget = { engine: 'sqlite', file: path.join(home, 'cuttle.db') };",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      'const label = `${plan.source.engine} schema ${v}`;',
      "const hint = `compare engine === 'mysql' in the docs`;",
      "const re = /engine === 'sqlite'/;",
      'const concurrency = options.concurrency ?? target.capabilities.defaultCopyConcurrency;',
      'const factory = dialectFactory(target.engine);',
      'const engineName = storage.engine;',
      "const ratio = total / engine.length; const s = 'x';",
    ];
    for (const line of clean) assert.deepEqual(findComparisons('sample.ts', line), [], line);
  });

  it('keeps line numbers through multi-line strings and comments', () => {
    const src = [
      'const a = `first',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      "second ${b === 'x' ? 1 : 2} third`;",
      '/* one',
      'two */',
      "if (x.engine === 'mysql') {}",
    ].join('\n');
    assert.deepEqual(
      findComparisons('sample.ts', src).map((f) => f.line),
      [5, 5],
    );
  });
});
