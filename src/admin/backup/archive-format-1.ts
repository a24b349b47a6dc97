import type { CanonicalValue } from '../../storage/codecs.js';
import { lineWriter } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';

/**
 * Archive format 1 (Cuttle 0.1.0) stored each row as `JSON.stringify(canonicalValues)` + "\n".
 * Its manifest hashes cover those JSON lines; restoring one turns the lines into row text, and the
 * target is then checked against the digest of that row text (computed while converting).
 */
export function legacyLinesToRowText(table: TableSpec, body: Buffer): Buffer {
  const write = lineWriter(table);
  const text = body.toString('utf8');
  let out = '';
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
    out += write(JSON.parse(text.slice(start, i)) as CanonicalValue[]);
    start = i + 1;
  }
  return Buffer.from(out, 'utf8');
}

/** The first two values of each line (instance_metadata: key, value). */
export function legacyPairs(body: Buffer): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (const line of body.toString('utf8').split('\n')) {
    if (!line) continue;
    try {
      const v = JSON.parse(line) as unknown[];
      out.push([v[0], v[1]]);
    } catch {
      // A damaged line fails the table's hash check; nothing to collect from it.
    }
  }
  return out;
}
