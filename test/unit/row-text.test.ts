import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mysqlEscapes } from '../../src/storage/dialects/mysql/mysql-bulk-load.js';
import {
  countLines,
  escapeText,
  lineReader,
  lineWriter,
  unescapeText,
  wholeLines,
} from '../../src/storage/row-text.js';
import type { TableSpec } from '../../src/storage/schema/column-types.js';

const SPEC: TableSpec = {
  name: 'probe',
  columns: [
    { name: 'id', type: 'id' },
    { name: 'n', type: 'int', nullable: true },
    { name: 'big', type: 'int64', nullable: true },
    { name: 'ok', type: 'bool', nullable: true },
    { name: 'at', type: 'timestamp', nullable: true },
    { name: 'body', type: 'longtext', nullable: true },
    { name: 'bytes', type: 'blob', nullable: true },
  ],
  primaryKey: ['id'],
};

async function* from(pieces: Buffer[]) {
  yield* pieces;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const p of source) out.push(p);
  return out;
}

describe('row text', () => {
  it('writes PostgreSQL COPY text and reads it back to the same canonical values', () => {
    const write = lineWriter(SPEC);
    const read = lineReader(SPEC);
    const values = [
      'Key-1',
      -7,
      '-9223372036854775808',
      true,
      '2024-02-29T23:59:59.999Z',
      'tab\there\nnew\\line \\N \b\f\v\r ✓',
      Buffer.from([0, 255, 10]).toString('base64'),
    ];
    const line = write(values);
    assert.equal(
      line,
      'Key-1\t-7\t-9223372036854775808\tt\t2024-02-29T23:59:59.999Z\ttab\\there\\nnew\\\\line \\\\N \\b\\f\\v\\r ✓\t\\\\x00ff0a\n',
    );
    assert.deepEqual(read(line.slice(0, -1)), values);
    const nulls = write(['k', null, null, null, null, null, null]);
    assert.equal(nulls, 'k\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n');
    assert.deepEqual(read(nulls.slice(0, -1)), ['k', null, null, null, null, null, null]);
    assert.equal(unescapeText(escapeText('a\\b\tc')), 'a\\b\tc');
  });

  it('refuses values that do not fit their column', () => {
    const write = lineWriter(SPEC);
    assert.throws(() => write(['k', 2 ** 60, null, null, null, null, null]), /integer below 2\^53/);
    assert.throws(() => write(['k', null, null, null, 'yesterday', null, null]), /timestamp/);
    assert.throws(() => lineReader(SPEC)('only\ttwo'), /2 fields, the table 7 columns/);
  });

  it('wholeLines re-cuts any split at line ends without losing a byte', async () => {
    let text = '';
    for (let i = 0; i < 500; i++) text += `${'x'.repeat(i % 37)}row ${i} ✓\n`;
    const all = Buffer.from(text);
    for (let seed = 1; seed <= 20; seed++) {
      const pieces: Buffer[] = [];
      let at = 0;
      let r = seed;
      while (at < all.length) {
        r = (r * 1103515245 + 12345) % 2 ** 31;
        const n = 1 + (r % (seed * 7));
        pieces.push(all.subarray(at, at + n));
        at += n;
      }
      const out = await collect(wholeLines(from(pieces), 'probe'));
      for (const p of out) assert.equal(p[p.length - 1], 10, 'each piece ends at a line end');
      assert.ok(Buffer.concat(out).equals(all));
      assert.equal(
        out.reduce((a, p) => a + countLines(p), 0),
        500,
      );
    }
    await assert.rejects(collect(wholeLines(from([Buffer.from('a\nb')]), 'probe')), /ended inside a row/);
  });

  it('mysqlEscapes turns \\f and \\v into their bytes and leaves \\\\f alone', () => {
    const line = Buffer.from(lineWriter(SPEC)(['k', null, null, null, null, 'C:\\folder\f\v\\v', null]));
    const out = mysqlEscapes(line).toString('latin1');
    assert.equal(out, 'k\t\\N\t\\N\t\\N\t\\N\tC:\\\\folder\f\v\\\\v\t\\N\n');
  });
});
