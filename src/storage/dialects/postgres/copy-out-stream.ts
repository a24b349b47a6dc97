import type { ReadableOptions } from 'node:stream';
import { type CopyToStreamQuery, to as copyTo } from 'pg-copy-streams';

/**
 * `COPY ... TO STDOUT` as a stream of raw bytes, like pg-copy-streams' `to()` (whose connection
 * handling, error path and hand-back to pg it inherits), with a faster decoder: PostgreSQL sends
 * one CopyData message per row, and the stock decoder made a Buffer view per row and a list of
 * them per read, which showed as a third of `backup create`'s CPU in garbage collection and buffer
 * bookkeeping. This one strips the 5-byte message headers by moving the row bytes down inside the
 * network chunk it was given (copyWithin: no allocation per row) and pushes one piece per chunk.
 */

// pg-copy-streams 7 exports only the factory; the class comes from an instance's prototype.
const Base = Object.getPrototypeOf(copyTo('COPY (SELECT 1) TO STDOUT')).constructor as new (
  text: string,
  options?: ReadableOptions,
) => CopyToStreamQuery;

interface BaseInternals {
  _buffer: { push(b: Buffer): void; size: number };
  _detach(): void;
  _cleanup(): void;
}

const COPY_DATA = 0x64; // 'd'
const ERROR_RESPONSE = 0x45; // 'E'
/** Messages PostgreSQL may interleave with CopyData (see pg-copy-streams' decoder). */
const INTERSPERSED = new Set([0x48 /* H CopyOutResponse */, 0x53 /* S */, 0x4e /* N */, 0x41 /* A */]);

class FastCopyToStream extends Base {
  /** Bytes of an unfinished message header (or of a whole non-data message) from the last chunk. */
  private rest: Buffer | null = null;
  /** Row bytes of the current CopyData message still to come. */
  private dataLeft = 0;

  // Replaces the parent's decoder; returns whether the consumer still wants data.
  _parse(chunk: Buffer): boolean {
    const self = this as unknown as BaseInternals;
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let pos = 0;
    let out = 0;
    let done = false;
    let failed = false;
    const n = buf.length;
    while (pos < n) {
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, n - pos);
        if (out !== pos) buf.copyWithin(out, pos, pos + take);
        out += take;
        pos += take;
        this.dataLeft -= take;
        continue;
      }
      if (n - pos < 5) break;
      const code = buf[pos]!;
      const len =
        ((buf[pos + 1]! << 24) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!) >>> 0;
      if (code === COPY_DATA) {
        pos += 5;
        this.dataLeft = len - 4;
        continue;
      }
      if (code === ERROR_RESPONSE) {
        failed = true;
        break;
      }
      if (n - pos < 1 + len) break;
      pos += 1 + len;
      if (!INTERSPERSED.has(code)) {
        done = true; // CopyDone (or anything that ends the copy)
        break;
      }
    }
    let drained = true;
    if (out > 0) drained = this.push(buf.subarray(0, out));
    if (done || failed) {
      // what follows (CommandComplete, ReadyForQuery, or the error) is pg's to parse
      if (pos < n) self._buffer.push(buf.subarray(pos));
      self._detach();
      if (done) {
        this.push(null);
        self._cleanup();
      }
      return drained;
    }
    if (pos < n) this.rest = Buffer.from(buf.subarray(pos));
    return drained;
  }
}

export function fastCopyTo(text: string, options?: ReadableOptions): CopyToStreamQuery {
  return new FastCopyToStream(text, options);
}
