import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { errorCodeReference } from '../../src/lib/error-code-reference.js';
import { ERROR_CODES } from '../../src/lib/error-codes.js';
import { ConflictError, type CuttleError, PreconditionError, RuntimeFailure } from '../../src/lib/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('error code catalog', () => {
  it('docs/reference/error-codes.md is what `npm run docs:errors` writes', () => {
    const committed = fs.readFileSync(path.join(ROOT, 'docs/reference/error-codes.md'), 'utf8');
    assert.equal(committed, errorCodeReference(), 'run `npm run docs:errors` and commit the page');
  });

  it('codes are UPPER_SNAKE_CASE with a sentence each, and every kind has its default', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
      assert.match(spec.means, /^[A-Z`].*\.$/, `${code}: its meaning is a sentence`);
    }
  });

  it('an error carries the code it was given, and a code is required', () => {
    assert.equal(new PreconditionError('x', { code: 'MOVE_TARGET_NOT_EMPTY' }).code, 'MOVE_TARGET_NOT_EMPTY');
    // Compile-time rules, checked by the type check (never called):
    const _rules = () => [
      // @ts-expect-error a site must name its code: none is left with a kind's generic one by omission
      new RuntimeFailure('x'),
      // @ts-expect-error a code of another kind is refused
      new PreconditionError('x', { code: 'NAME_TAKEN' }),
    ];
    void _rules;
    assert.equal(new ConflictError('x', { code: 'NAME_TAKEN' }).code, 'NAME_TAKEN');
    const e: CuttleError = new ConflictError('x', { code: 'NAME_TAKEN' });
    assert.equal(e.kind, ERROR_CODES[e.code].kind);
  });
});
