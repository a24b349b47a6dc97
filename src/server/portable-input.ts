import type { FastifyRequest } from 'fastify';
import { UsageError } from '../lib/errors.js';
import { findNonPortableText } from '../lib/portable-domain.js';
import type { App } from './route-deps.js';

/**
 * Every request's path parameters, query and body are checked against the portable domain
 * (lib/portable-domain.ts) before any route runs: a NUL or a lone surrogate anywhere is a 400
 * naming the field, on every engine alike (PostgreSQL would answer 500, SQLite would store it and
 * strand it there). Lengths and integer ranges are checked on the write itself
 * (storage/portable-writes.ts), which knows each column's type.
 */
export function installPortableInputCheck(app: App): void {
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const parts: [string, unknown][] = [
      ['path parameter', req.params],
      ['query parameter', req.query],
      ['body field', req.body],
    ];
    for (const [name, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
      for (const one of Array.isArray(v) ? v : [v]) if (typeof one === 'string') refuseInfinite(name, one);
    }
    for (const [where, value] of parts) {
      const found = findNonPortableText(value, '');
      if (found) refuse(found.path ? `${where} ${found.path}` : 'the request body', found.problem);
    }
  });
}

const NUMERAL = /^[+-]?(infinity|\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Ajv coerces `1e309` to Infinity and lets it through `integer` and `maximum`: refused here. */
function refuseInfinite(name: string, v: string): void {
  if (NUMERAL.test(v) && !Number.isFinite(Number(v)))
    throw new UsageError(`The query parameter ${name} is ${v}, a number no engine stores.`, {
      code: 'VALUE_OUT_OF_RANGE',
      hints: ['Give an integer between 0 and 2147483647.'],
    });
}

function refuse(field: string, problem: string): never {
  throw new UsageError(`The value of ${field} ${problem}.`, {
    code: 'VALUE_NOT_PORTABLE',
    hints: [
      'Remove the character: Cuttle keeps only text that every engine it supports stores the same way.',
    ],
  });
}
