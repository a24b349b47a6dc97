import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ErrorCode } from '../../src/lib/error-codes.js';
import type { CliResult } from './cli.js';

/** Bytes of a file, or null when it does not exist: compare before and after a refused command. */
export function fileBytes(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file).toString('base64') : null;
}

/** Asserts none of the secrets appears anywhere in what the command printed. */
export function assertNoSecrets(r: CliResult, secrets: (string | undefined)[], label = ''): void {
  for (const s of secrets) {
    if (s) assert.ok(!r.all.includes(s), `${label}: a secret appears in the output:\n${r.all}`);
  }
}

/** Asserts the command failed with exit status `exit`, the stable `code`, and a message matching each pattern. */
export function assertRefused(
  r: CliResult,
  exit: number,
  code: ErrorCode,
  patterns: RegExp[],
  label = '',
): void {
  assertFailedWith(r, exit, code, label);
  for (const p of patterns) assert.match(r.all, p, `${label}: message`);
}

/** The stable code a failed command printed (`error[CODE]: ...`), or undefined when it printed none. */
export function errorCodeOf(r: CliResult): string | undefined {
  return /^error\[([A-Z0-9_]+)\]: /m.exec(r.stderr)?.[1];
}

/** Asserts the command failed with exit code `exit` and the stable error code `code`. */
export function assertFailedWith(r: CliResult, exit: number, code: ErrorCode, label = ''): void {
  assert.equal(r.code, exit, `${label}: exit code ${r.code}, output:\n${r.all}`);
  assert.equal(errorCodeOf(r), code, `${label}: error code, output:\n${r.all}`);
}

export function assertOk(r: CliResult, label = ''): void {
  assert.equal(r.code, 0, `${label}: exit code ${r.code}, output:\n${r.all}`);
}
