import { createHash, type Hash } from 'node:crypto';
import { PreconditionError } from '../../lib/errors.js';
import { requireReadableFile } from '../../lib/path-checks.js';
import { decompressed } from './archive-compression.js';
import { contentInChecksum } from './archive-format.js';
import { BLOCK, padding, parseHeader, parsePax, TarFormatError } from './tar-codec.js';

/** A damaged or truncated archive, named by the entry being read when it was found. */
export class ArchiveDamagedError extends PreconditionError {
  constructor(message: string, opts: { hints?: string[]; details?: string[] } = {}) {
    super(message, { ...opts, code: 'ARCHIVE_DAMAGED' });
  }
}

export interface ArchiveEntryHeader {
  name: string;
  size: number;
}

/** Entries larger than this are streamed with `bodyChunks`, never held whole. */
const MAX_BUFFERED_ENTRY = 64 * 1024 * 1024;

/**
 * Reads the entries of a backup archive in order, decompressing as it goes (bounded memory: the
 * inflater's buffers plus the current piece). Also keeps the SHA-256 of every tar byte read, for
 * the archive.sha256 check: `hashBeforeEntry` is the digest of everything before the current header.
 */
export class ArchiveReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private eof = false;
  /** archive.sha256 as it is read; undefined when the caller does not check it (a second pass). */
  private readonly hash: Hash | undefined;
  /** Whether the bytes being read now belong in archive.sha256 (contentInChecksum). */
  private hashing = true;
  private remaining = 0;
  private pad = 0;
  private current: ArchiveEntryHeader | undefined;
  hashBeforeEntry = '';
  compressedBytesRead = 0;

  constructor(
    readonly file: string,
    opts: { checksum?: boolean } = {},
  ) {
    this.hash = opts.checksum === false ? undefined : createHash('sha256');
    requireReadableFile(file, 'The backup archive');
    const stream = decompressed(file, (n) => {
      this.compressedBytesRead += n;
    });
    this.iterator = stream[Symbol.asyncIterator]();
  }

  get entry(): ArchiveEntryHeader | undefined {
    return this.current;
  }

  private damaged(err: unknown): ArchiveDamagedError {
    if (err instanceof ArchiveDamagedError) return err;
    const where = this.current ? `while reading ${this.current.name}` : 'at its start';
    const code = (err as { code?: string }).code;
    const why =
      code === 'Z_BUF_ERROR' || /unexpected end|premature end/i.test(String((err as Error).message))
        ? 'it ends early (truncated)'
        : code === 'Z_DATA_ERROR' ||
            /incorrect (header|data) check|invalid|corrupt|checksum|decoding error|unknown frame/i.test(
              String((err as Error).message),
            )
          ? 'its compressed data is corrupt'
          : err instanceof TarFormatError
            ? err.message
            : String((err as Error).message ?? err);
    return new ArchiveDamagedError(`The backup archive ${this.file} is damaged ${where}: ${why}.`, {
      hints: ['Use another copy of the backup; this one cannot be restored.'],
    });
  }

  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    let r: IteratorResult<Buffer>;
    try {
      r = await this.iterator.next();
    } catch (err) {
      throw this.damaged(err);
    }
    if (r.done) {
      this.eof = true;
      return false;
    }
    this.chunks.push(r.value);
    this.buffered += r.value.length;
    return true;
  }

  /** Up to `max` bytes (at least one), or null at the end of the stream. */
  private async readUpTo(max: number): Promise<Buffer | null> {
    if (this.buffered === 0 && !(await this.pull())) return null;
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length <= max) {
      out = first;
      this.chunks.shift();
    } else {
      out = first.subarray(0, max);
      this.chunks[0] = first.subarray(max);
    }
    this.buffered -= out.length;
    if (this.hashing) this.hash?.update(out);
    return out;
  }

  private async readExact(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (!(await this.pull())) throw this.damaged(new Error('unexpected end of file'));
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const piece = (await this.readUpTo(need))!;
      parts.push(piece);
      need -= piece.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** The next entry's header (skipping what is left of the current one), or null at the end. */
  async next(): Promise<ArchiveEntryHeader | null> {
    while (this.remaining > 0) {
      const piece = await this.readUpTo(Math.min(this.remaining, 1 << 20));
      if (!piece) throw this.damaged(new Error('unexpected end of file'));
      this.remaining -= piece.length;
    }
    if (this.pad) await this.readExact(this.pad);
    this.pad = 0;
    this.hashing = true;
    this.hashBeforeEntry = this.hash?.copy().digest('hex') ?? '';
    let pax: Record<string, string> = {};
    for (;;) {
      let header: ReturnType<typeof parseHeader>;
      try {
        header = parseHeader(await this.readExact(BLOCK));
      } catch (err) {
        throw this.damaged(err);
      }
      if (!header) {
        this.current = undefined;
        return null;
      }
      if (header.type === 'x') {
        const body = await this.readExact(header.size);
        await this.readExact(padding(header.size));
        pax = parsePax(body);
        continue;
      }
      if (header.type !== '0')
        throw this.damaged(new TarFormatError(`unexpected tar entry type "${header.type}"`));
      const name = pax.path ?? header.name;
      const size = pax.size ? Number(pax.size) : header.size;
      this.current = { name, size };
      this.hashing = contentInChecksum(name);
      this.remaining = size;
      this.pad = padding(size);
      return this.current;
    }
  }

  /** The whole content of the current entry (for entries of bounded size: chunks, JSON). */
  async readBody(): Promise<Buffer> {
    if (this.remaining > MAX_BUFFERED_ENTRY) {
      throw this.damaged(
        new TarFormatError(`${this.current?.name} is larger than an entry of its kind can be`),
      );
    }
    const body = await this.readExact(this.remaining);
    this.remaining = 0;
    return body;
  }

  /** The content of the current entry in pieces (files of any size). */
  async *bodyChunks(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const piece = await this.readUpTo(Math.min(this.remaining, 1 << 20));
      if (!piece) throw this.damaged(new Error('unexpected end of file'));
      this.remaining -= piece.length;
      yield piece;
    }
  }

  /** Reads to the end of the stream, so the gzip trailer (CRC) is checked too. */
  async finish(): Promise<void> {
    while (await this.readUpTo(1 << 20)) {}
  }

  close(): void {
    void this.iterator.return?.();
  }
}
