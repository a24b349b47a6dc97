import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { seal } from '../../src/crypto/envelope.js';
import type { MasterKey } from '../../src/crypto/master-key.js';
import { bulkLoad } from '../../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import type { ColumnSpec, TableSpec } from '../../src/storage/schema/column-types.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import type { Storage } from '../../src/storage/storage.js';

/** Codec edge cases that every engine must give back byte for byte (no NUL: PostgreSQL text refuses it). */
export const NASTY = [
  '',
  'a"b',
  'tab\there',
  'new\nline',
  'cr\rlf',
  'back\\slash',
  "quo'te",
  ',comma',
  '\\N',
  'Ábc ✓ 🐙',
  'e\u0301',
  '  padded  ',
  'NULL',
];

export const SECRETS = ['s3cret-Pa55word!', 'another "secret" ✓', 'token\nwith newline'];

const TIMES = [
  '1970-01-01T00:00:00.000Z',
  '2024-02-29T23:59:59.999Z',
  '2038-01-19T03:14:08.001Z',
  '1999-12-31T23:59:59.000Z',
];

function value(table: TableSpec, col: ColumnSpec, i: number): CanonicalValue {
  if (col.nullable && i % 3 === 2) return null;
  const s = NASTY[i % NASTY.length]!;
  switch (col.type) {
    case 'id': {
      const prefix = i % 3 === 0 ? 'Key' : i % 3 === 1 ? 'key' : 'KEY';
      return table.primaryKey.includes(col.name) ? `${prefix}-${i}` : `Ref-${i}`;
    }
    case 'text':
      return `${s}-${col.name}-${i}`;
    case 'longtext':
      return i === 1 ? `${s}${'long ✓ '.repeat(20000)}` : `${s} ${col.name} ${i}`;
    case 'json':
      return i % 2 ? '{"b":1,"a":[1,2,{"x":"ü"}],"a":3}' : `{ "n" : ${i} , "s":"${i}" }`;
    case 'int':
      return [0, -1, 2147483647, -2147483648, i][i % 5]!;
    case 'bigint':
      return [Number.MAX_SAFE_INTEGER - i, -Number.MAX_SAFE_INTEGER + i, 0, i][i % 4]!;
    case 'int64':
      return ['9223372036854775807', '-9223372036854775808', '0', String(i)][i % 4]!;
    case 'bool':
      return i % 2 === 0;
    case 'timestamp':
      return TIMES[i % TIMES.length]!;
    case 'blob':
      return Buffer.from([i, 0, 255]).toString('base64');
  }
}

export interface SeedResult {
  /** Plaintexts of the sensitive variables, by variable id. */
  sensitive: Map<string, string>;
  artifacts: { relativePath: string; sha256: string }[];
}

/**
 * Rows in every table (the seeded instance_metadata and key_allocations rows stay and get company),
 * sensitive variables sealed with the key, and artifact/package files in the home that the
 * artifacts rows reference.
 */
export async function seedEverything(
  storage: Storage,
  key: MasterKey,
  home: string,
  rowsPerTable = 40,
): Promise<SeedResult> {
  const sensitive = new Map<string, string>();
  const artifacts: SeedResult['artifacts'] = [];
  for (const table of TABLES) {
    const rows: CanonicalValue[][] = [];
    const n = table.name === 'task_log_chunks' ? rowsPerTable * 10 : rowsPerTable;
    for (let i = 0; i < n; i++) {
      const row = table.columns.map((c) => value(table, c, i));
      const col = (name: string) => table.columns.findIndex((c) => c.name === name);
      if (table.name === 'instance_metadata') row[col('key')] = `test-meta-${i}`;
      if (table.name === 'key_allocations') row[col('collection_name')] = `TestCollection${i}`;
      if (table.name === 'task_log_chunks') {
        row[col('task_id')] = `ServerTasks-${i % 7}`;
        row[col('seq')] = i;
      }
      if (table.name === 'variables' && i % 4 === 0) {
        const plain = SECRETS[i % SECRETS.length]!;
        row[col('is_sensitive')] = true;
        row[col('value')] = seal(key, plain);
        sensitive.set(String(row[col('id')]), plain);
      } else if (table.name === 'variables') row[col('is_sensitive')] = false;
      if (table.name === 'artifacts') {
        const rel = `ServerTasks-${i}/${i % 2 ? 'report ✓.txt' : 'out/deep/file.bin'}`;
        const content = Buffer.from(`artifact ${i} ${'x'.repeat(i * 100)}`);
        const abs = path.join(home, 'artifacts', rel);
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
        row[col('relative_path')] = rel;
        row[col('size_bytes')] = String(content.length);
        row[col('sha256')] = createHash('sha256').update(content).digest('hex');
        artifacts.push({ relativePath: rel, sha256: String(row[col('sha256')]) });
      }
      rows.push(row);
    }
    await bulkLoad(
      storage,
      table,
      (async function* () {
        yield rows;
      })(),
    );
  }
  fs.mkdirSync(path.join(home, 'packages', 'Acme.Web'), { recursive: true });
  fs.writeFileSync(path.join(home, 'packages', 'Acme.Web', 'Acme.Web.1.0.0.zip'), Buffer.alloc(300_000, 7));
  fs.writeFileSync(path.join(home, 'packages', 'empty.txt'), '');
  fs.writeFileSync(path.join(home, 'packages', `${'long-name-'.repeat(15)}.nupkg`), 'long name');
  return { sensitive, artifacts };
}

/** sha256 of every file under a folder, by relative path. */
export function folderDigest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(abs);
      else out[path.relative(root, abs)] = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
    }
  };
  walk(root);
  return out;
}
