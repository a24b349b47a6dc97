import { CuttleError } from '../lib/errors.js';
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

export function printError(e: unknown): void {
  if (e instanceof CuttleError) {
    err(`Error: ${e.message}`);
    for (const d of e.details) err(`  - ${d}`);
    for (const h of e.hints) err(h);
    return;
  }
  const error = e instanceof Error ? e : new Error(String(e));
  err(`Error: ${error.message}`);
  if (process.env.CUTTLE_DEBUG && error.stack) err(error.stack);
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
