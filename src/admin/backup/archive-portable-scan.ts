import { PreconditionError } from '../../lib/errors.js';
import { SHORT_TEXT_MAX, textProblem } from '../../lib/portable-domain.js';
import type { EngineCapabilities } from '../../storage/dialects/dialect.js';
import { NULL_FIELD, unescapeText } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';

/** A value of an archive outside the portable domain (lib/portable-domain.ts), named by row. */
export interface NonPortableArchiveValue {
  table: string;
  /** The row's primary key values joined with "/", or `line N` where the columns are not known. */
  row: string;
  column: string;
  problem: string;
  /** What an engine would have to hold to take it. */
  needs: { nul: boolean; chars: number };
}

const TEXT_TYPES = new Set(['id', 'text', 'longtext', 'json']);
const SHORT_TYPES = new Set(['id', 'text']);

/**
 * Looks through an archive's row text for old values outside the portable domain, as the verify
 * pass (or a single-pass restore) reads it, so that a restore can refuse, naming table, row and
 * column, before it loads a value its target would refuse (a NUL into PostgreSQL, a 300-character
 * name into MariaDB), and `backup verify` can say where the archive restores.
 *
 * What must hold: the cost stays that of counting lines (which the checker did anyway). Only a
 * line holding a NUL byte or longer than SHORT_TEXT_MAX bytes can hold such a value, so only those
 * are split; a line that spans two pieces is carried over. A lone surrogate cannot be in an
 * archive: UTF-8 has none (the backup wrote U+FFFD), so it is not looked for here.
 */
export class PortableScan {
  readonly found: NonPortableArchiveValue[] = [];
  private readonly carry = new Map<string, Buffer>();
  private readonly lines = new Map<string, number>();

  constructor(
    private readonly specs: ReadonlyMap<string, TableSpec>,
    private readonly limit = 20,
  ) {}

  /** A piece of a table chunk (row text); returns the newlines it holds (the rows it ends). */
  piece(table: string, body: Buffer): number {
    const carried = this.carry.get(table);
    const buf = carried ? Buffer.concat([carried, body]) : body;
    let rows = 0;
    let start = 0;
    let nul = buf.indexOf(0);
    let line = this.lines.get(table) ?? 0;
    for (let end = buf.indexOf(10); end >= 0; end = buf.indexOf(10, start)) {
      line++;
      rows++;
      const hasNul = nul >= 0 && nul < end;
      if (hasNul || end - start > SHORT_TEXT_MAX) this.examine(table, buf.subarray(start, end), line, hasNul);
      if (hasNul) nul = buf.indexOf(0, end);
      start = end + 1;
    }
    this.lines.set(table, line);
    if (start < buf.length) this.carry.set(table, Buffer.from(buf.subarray(start)));
    else this.carry.delete(table);
    // the carried bytes were counted as no row yet; the piece's newlines are its rows
    return rows;
  }

  /** A line that may hold such a value: with a NUL, every text field is looked at; else only long short ones. */
  private examine(table: string, raw: Buffer, line: number, hasNul: boolean): void {
    if (this.found.length >= this.limit) return;
    const spec = this.specs.get(table);
    const fields = raw.toString('utf8').split('\t');
    if (!spec || spec.columns.length !== fields.length) {
      // an older layout this Cuttle does not know by heart: the line, and NUL only
      if (raw.includes(0))
        this.add({
          table,
          row: `line ${line}`,
          column: '?',
          problem: textProblem('\0')!,
          needs: { nul: true, chars: 0 },
        });
      return;
    }
    const key = () =>
      spec.primaryKey.map((k) => fieldText(fields[spec.columns.findIndex((c) => c.name === k)])).join('/');
    spec.columns.forEach((c, i) => {
      if (!TEXT_TYPES.has(c.type) || fields[i] === NULL_FIELD) return;
      // a long log or JSON field is fine: without a NUL only short text can be too long
      if (!hasNul && !(SHORT_TYPES.has(c.type) && fields[i]!.length > SHORT_TEXT_MAX)) return;
      const v = unescapeText(fields[i]!);
      const problem = textProblem(v);
      const chars = SHORT_TYPES.has(c.type) && v.length > SHORT_TEXT_MAX ? [...v].length : 0;
      if (problem) this.add({ table, row: key(), column: c.name, problem, needs: { nul: true, chars } });
      else if (chars > SHORT_TEXT_MAX) {
        this.add({
          table,
          row: key(),
          column: c.name,
          problem: `is ${chars} characters long; at most ${SHORT_TEXT_MAX} fit on every engine`,
          needs: { nul: false, chars },
        });
      }
    });
  }

  private add(v: NonPortableArchiveValue): void {
    if (this.found.length < this.limit) this.found.push(v);
  }
}

function fieldText(f: string | undefined): string {
  return f === undefined || f === NULL_FIELD ? '' : unescapeText(f);
}

/** The values found that an engine with `caps` would refuse (SQLite holds them all). */
export function refusedBy(
  found: NonPortableArchiveValue[],
  caps: Pick<EngineCapabilities, 'holdsText'>,
): NonPortableArchiveValue[] {
  const { nul, shortTextMax } = caps.holdsText;
  return found.filter(
    (f) => (f.needs.nul && !nul) || (shortTextMax !== undefined && f.needs.chars > shortTextMax),
  );
}

/** One line per value: "table projects, row Projects-3, column name holds a NUL ...". */
export function describeNonPortable(found: NonPortableArchiveValue[]): string[] {
  return found.map((f) => `table ${f.table}, row ${f.row}, column ${f.column} ${f.problem}`);
}

/** The refusal of a restore whose target cannot store some of the archive's values: nothing was loaded. */
export function archiveNotPortable(
  file: string,
  refused: NonPortableArchiveValue[],
  engine: string,
): PreconditionError {
  return new PreconditionError(
    `The backup archive ${file} holds ${refused.length} old value(s) that ${engine} cannot store; nothing was restored.`,
    {
      code: 'ARCHIVE_NOT_PORTABLE',
      details: describeNonPortable(refused),
      hints: [
        'Restore it to an engine that holds them (SQLite holds any text), correct those values through the API, the portal or SQL, and back up again;',
        'then restore the new backup here (or move the corrected instance with `cuttle database move`).',
      ],
    },
  );
}
