import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { exitCodeForKind, httpStatusForKind } from './exit-codes.js';

/**
 * docs/reference/error-codes.md, made from the catalog (scripts/write-error-codes.ts writes it;
 * test/unit/error-codes.test.ts fails when the committed page differs).
 */
export function errorCodeReference(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const { kind, means } = ERROR_CODES[code];
    return `| \`${code}\` | ${kind} | ${exitCodeForKind(kind)} | ${httpStatusForKind(kind)} | ${means.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/lib/error-codes.ts by `npm run docs:errors`; do not edit by hand. -->',
    '',
    'Every failure Cuttle reports carries a stable code. Scripts and monitoring should match on the',
    'code, never on the message, which is written for people and may be reworded.',
    '',
    '- **CLI**: `error[CODE]: message` on stderr, then detail and hint lines; with `--format json`,',
    '  `{"error": {"code", "message", "details", "hints"}}` on stdout. The exit code follows the kind.',
    '- **REST**: the Octopus error body `{"ErrorMessage", "Errors"}` plus `"Code"`, with the HTTP',
    '  status of the kind.',
    '- **Tasks and moves**: a failed task log and a failed move journal name the code of the error',
    '  that stopped them.',
    '',
    'Exit codes: 0 success, 1 usage, 2 precondition or bad input (nothing was changed), 3 runtime',
    'failure while acting.',
    '',
    '| Code | Kind | Exit | HTTP | Meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
