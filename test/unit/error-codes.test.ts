import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { errorCodeReference } from '../../src/lib/error-code-reference.js';
import { DEFAULT_CODE, ERROR_CODES, type ErrorKind } from '../../src/lib/error-codes.js';
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
    for (const [kind, code] of Object.entries(DEFAULT_CODE)) {
      assert.equal(ERROR_CODES[code].kind, kind as ErrorKind, `${code} is the default of ${kind}`);
    }
  });

  it('an error carries the code it was given, or its kind default', () => {
    assert.equal(new PreconditionError('x', { code: 'MOVE_TARGET_NOT_EMPTY' }).code, 'MOVE_TARGET_NOT_EMPTY');
    assert.equal(new PreconditionError('x').code, 'PRECONDITION_FAILED');
    assert.equal(new RuntimeFailure('x').code, 'RUNTIME_FAILURE');
    assert.equal(new ConflictError('x', { code: 'NAME_TAKEN' }).code, 'NAME_TAKEN');
    const e: CuttleError = new ConflictError('x', { code: 'NAME_TAKEN' });
    assert.equal(e.kind, ERROR_CODES[e.code].kind);
  });
});
