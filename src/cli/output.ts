import { CuttleError, type ErrorCode } from '../lib/errors.js';
import { redactText } from '../lib/redact.js';

/**
 * Everything the CLI prints goes through here, and through `redactText`: a secret that slipped
 * into a message is masked before it reaches a terminal or a CI log.
 */
export function out(text = ''): void {
  process.stdout.write(`${redactText(text)}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${redactText(text)}\n`);
}

export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** What a failed command reports: its stable code, message, detail and hint lines. */
export interface ErrorReport {
  code: ErrorCode;
  message: string;
  details: string[];
  hints: string[];
}

function errorReport(e: unknown): ErrorReport {
  if (e instanceof CuttleError)
    return { code: e.code, message: e.message, details: e.details, hints: e.hints };
  const error = e instanceof Error ? e : new Error(String(e));
  return { code: 'INTERNAL_ERROR', message: error.message, details: [], hints: [] };
}

/**
 * `error[CODE]: message`, then the details and hints, on stderr; with `--format json` one JSON
 * object `{"error": {...}}` on stdout instead, so a script reads the code without parsing text.
 */
export function printError(e: unknown, format: 'text' | 'json' = 'text'): void {
  const r = errorReport(e);
  if (format === 'json') {
    outJson({ error: r });
    return;
  }
  err(`error[${r.code}]: ${r.message}`);
  for (const d of r.details) err(`  - ${d}`);
  for (const h of r.hints) err(h);
  if (!(e instanceof CuttleError) && process.env.CUTTLE_DEBUG && e instanceof Error && e.stack) err(e.stack);
}

/** A two-column table of label/value lines. */
export function outFields(rows: [string, string | number | boolean | undefined | null][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out(`${k.padEnd(width)}  ${v === undefined || v === null ? '-' : String(v)}`);
}

export function outTable(headers: string[], rows: (string | number)[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: (string | number)[]) =>
    cells
      .map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  out(line(headers));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out(line(r));
}
