import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type ApiFixture, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

/**
 * Requests of every shape, generated from docs/openapi.json: documented paths with real and
 * absurd ids, every query parameter with numbers no engine stores (1e309, 2^63, NaN) and text
 * no engine keeps (NUL, lone surrogates), bodies of the documented fields with any JSON in them.
 * Whatever comes, the answer is a 2xx/4xx in Octopus's error shape, never a 5xx and never a hang.
 */
type Param = { name: string; in: string; schema?: { type?: string } };
type Operation = {
  parameters?: Param[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
};
const doc = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/openapi.json'), 'utf8'),
) as {
  paths: Record<string, Record<string, Operation>>;
};

/** Not fuzzed: a move would really move the instance; the live feeds never end by design. */
const LEFT_OUT = new Set([
  'POST /api/admin/database-move',
  'GET /api/portal/events',
  'GET /api/portal/tasks/{id}/stream',
]);
const METHODS = new Set(['get', 'put', 'post', 'delete']);
const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
  Object.entries(ops)
    .filter(([m]) => METHODS.has(m) && !LEFT_OUT.has(`${m.toUpperCase()} ${p}`))
    .map(([m, op]) => ({ method: m.toUpperCase() as 'GET' | 'PUT' | 'POST' | 'DELETE', path: p, op })),
);

const NASTY_NUMBERS = [
  '1e309',
  '-1e309',
  '-1',
  '9007199254740993',
  '9223372036854775808',
  '2147483648',
  'NaN',
  'Infinity',
  '',
  'abc',
  '0x10',
  '1.5',
  '-0',
  '00000000000000000001',
];
const NASTY_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x'.repeat(5000),
  '%',
  '../../etc/passwd',
  "'; DROP TABLE projects; --",
  '🦑',
  ' ',
];

const text = fc.oneof(fc.constantFrom(...NASTY_TEXT), fc.string({ unit: 'binary', maxLength: 40 }));
const numberish = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS),
  fc.integer().map(String),
  fc.double().map(String),
);
const ids = (real: string[]) => fc.oneof(fc.constantFrom(...real), text, numberish);
const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(...NASTY_TEXT),
  fc.constantFrom(1e308, -1, 2 ** 63, Number.MAX_SAFE_INTEGER + 2),
);

function request(realIds: string[]) {
  return fc.constantFrom(...operations).chain(({ method, path: p, op }) => {
    const params = op.parameters ?? [];
    const pathParams = params.filter((x) => x.in === 'path');
    const queryParams = params.filter((x) => x.in === 'query');
    const props = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {});
    const body =
      method === 'GET' || method === 'DELETE'
        ? fc.constant(undefined)
        : fc.oneof(
            fc.dictionary(props.length ? fc.constantFrom(...props) : text, jsonValue, { maxKeys: 6 }),
            jsonValue,
          );
    return fc.record({
      method: fc.constant(method),
      path: fc.constant(p),
      pathValues: fc.tuple(...pathParams.map(() => ids(realIds))),
      query: fc
        .subarray(queryParams)
        .chain((qs) =>
          fc.tuple(
            ...qs.map((q) =>
              (q.schema?.type === 'integer' ? numberish : text).map((v) => [q.name, v] as const),
            ),
          ),
        ),
      body,
    });
  });
}

/** Percent-encoding; a lone surrogate (which encodeURIComponent refuses) goes as the bytes ED A0 80. */
function enc(v: string): string {
  return [...v].map((c) => (/^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
}

function urlOf(r: { path: string; pathValues: string[]; query: (readonly [string, string])[] }): string {
  let i = 0;
  const p = r.path.replace(/\{[^}]+\}/g, () => enc(r.pathValues[i++] ?? 'x'));
  const q = r.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  return q ? `${p}?${q}` : p;
}

for (const engine of ENGINES) {
  describe(`${engine}: requests generated from docs/openapi.json`, () => {
    let fx: ApiFixture;
    let realIds: string[];
    before(async () => {
      fx = await startApi(engine, `fuzz-${engine}`);
      const seeded = await seedProject(fx, 'Fuzzed');
      realIds = [
        'Spaces-1',
        'Users-1',
        'test-node',
        ...Object.values(seeded).filter((v): v is string => typeof v === 'string'),
      ];
    });
    after(async () => {
      await fx?.close();
    });

    it('never answer 5xx, and always answer', async () => {
      await fc.assert(
        fc.asyncProperty(request(realIds), async (r) => {
          const url = urlOf(r);
          const res = await fx.app.inject({
            method: r.method,
            url,
            headers: { 'x-octopus-apikey': fx.adminKey, 'x-octopus-csrf-token': 'none' },
            ...(r.body === undefined
              ? {}
              : {
                  payload: JSON.stringify(r.body),
                  headers: { 'x-octopus-apikey': fx.adminKey, 'content-type': 'application/json' },
                }),
          });
          assert.ok(
            res.statusCode < 500,
            `${r.method} ${url} ${JSON.stringify(r.body)?.slice(0, 300)} -> ${res.statusCode} ${res.body.slice(0, 500)}`,
          );
          if (res.statusCode >= 400)
            assert.ok(
              (JSON.parse(res.body || '{}') as { ErrorMessage?: string }).ErrorMessage,
              `${r.method} ${url}: a 4xx in Octopus's error shape, got ${res.statusCode} ${res.body.slice(0, 300)}`,
            );
        }),
        { numRuns: 250, seed: Number(process.env.CUTTLE_FUZZ_SEED ?? 20261204), endOnFailure: true },
      );
    });
  });
}
