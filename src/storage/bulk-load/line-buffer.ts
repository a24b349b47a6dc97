/**
 * Collects text lines as UTF-8 into ~256 KB buffers for a loader's stream. Lines are joined into
 * strings of about 8 KB before each is encoded into a preallocated buffer: a `Buffer.write` per
 * line dominated a big copy's main thread, and a short string concatenation stays cheap to
 * flatten where whole 256 KB strings did not (docs/performance.md, "Figures behind design choices").
 */
const BATCH_CHARS = 8192;

export class LineBuffer {
  private buf: Buffer;
  private used = 0;
  private pending = '';
  constructor(private readonly size = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Adds a line; returns a full buffer to send when this one filled up. */
  push(line: string): Buffer | undefined {
    this.pending += line;
    return this.pending.length < BATCH_CHARS ? undefined : this.encodePending();
  }

  /** What is left, or undefined. */
  take(): Buffer | undefined {
    const full = this.pending ? this.encodePending() : undefined;
    const rest = this.takeBuffer();
    return full && rest ? Buffer.concat([full, rest]) : (full ?? rest);
  }

  private encodePending(): Buffer | undefined {
    const s = this.pending;
    this.pending = '';
    // a UTF-16 code unit takes at most 3 bytes in UTF-8
    if (this.used + s.length * 3 <= this.size) {
      this.used += this.buf.write(s, this.used, 'utf8');
      return undefined;
    }
    const out = this.takeBuffer();
    if (s.length * 3 > this.size) {
      const big = Buffer.from(s, 'utf8');
      return out ? Buffer.concat([out, big]) : big;
    }
    this.used = this.buf.write(s, 0, 'utf8');
    return out;
  }

  private takeBuffer(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const out = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(this.size);
    this.used = 0;
    return out;
  }
}
