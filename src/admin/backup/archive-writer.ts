import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { PreconditionError, RuntimeFailure } from '../../lib/errors.js';
import { compressionFor, compressor as compressorFor } from './archive-compression.js';
import { contentInChecksum, ENTRY } from './archive-format.js';
import { BLOCK, entryHeader, padding } from './tar-codec.js';

/** A write failure in words: full disk and read-only folders are the ones admins meet. */
function outputError(err: unknown, file: string): PreconditionError | RuntimeFailure {
  const code = (err as { code?: string }).code;
  const dir = path.dirname(file);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new PreconditionError(`No space left on the device while writing the backup archive in ${dir}.`, {
      code: 'DISK_SPACE_LOW',
      hints: ['Free space there or choose another place with --output FILE; nothing was left behind.'],
    });
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new PreconditionError(
      `Cannot write the backup archive in ${dir}: the folder is not writable (${code}).`,
      {
        code: 'PATH_INVALID',
        hints: [
          'Choose another place with --output FILE, or give the Cuttle user write access to the folder.',
        ],
      },
    );
  }
  if (code === 'ENOENT')
    return new PreconditionError(`The output folder ${dir} does not exist.`, { code: 'PATH_INVALID' });
  return new RuntimeFailure(
    `Writing the backup archive ${file} failed: ${(err as Error).message ?? String(err)}`,
    { code: 'BACKUP_WRITE_FAILED' },
  );
}

/**
 * Writes a tar stream through the compressor (archive-compression.ts) to `<file>.partial`; `finish`
 * appends the whole-archive checksum, fsyncs and renames, so `<file>` is either complete or absent.
 * Writes wait for the compressor to drain: memory stays at one entry's buffer plus the
 * compressor's own.
 */
export class ArchiveWriter {
  private readonly hash: Hash = createHash('sha256');
  private failure: unknown;
  private readonly closed: Promise<void>;
  bytesIn = 0;

  private constructor(
    readonly file: string,
    readonly partial: string,
    private readonly compressor: Duplex,
    private readonly out: fs.WriteStream,
  ) {
    const onError = (e: unknown) => {
      this.failure ??= e;
    };
    compressor.on('error', onError);
    out.on('error', onError);
    this.closed = new Promise((resolve) => {
      out.on('close', resolve);
    });
    compressor.pipe(out);
  }

  static async create(file: string): Promise<ArchiveWriter> {
    const partial = `${file}.partial`;
    let fd: number;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fd = fs.openSync(partial, 'w', 0o600);
    } catch (err) {
      throw outputError(err, file);
    }
    let compressor: Duplex;
    try {
      compressor = compressorFor(compressionFor(file));
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(partial, { force: true });
      throw err;
    }
    const out = fs.createWriteStream(partial, { fd, highWaterMark: 1 << 20 });
    return new ArchiveWriter(file, partial, compressor, out);
  }

  get compressedBytes(): number {
    return this.out.bytesWritten;
  }

  private check(): void {
    if (this.failure) throw outputError(this.failure, this.file);
  }

  private async write(buf: Buffer, checksummed = true): Promise<void> {
    this.check();
    if (checksummed) this.hash.update(buf);
    this.bytesIn += buf.length;
    if (!this.compressor.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.compressor.off('drain', done);
          this.out.off('error', done);
          this.compressor.off('error', done);
          resolve();
        };
        this.compressor.on('drain', done);
        this.out.once('error', done);
        this.compressor.once('error', done);
      });
      this.check();
    }
  }

  async addEntry(name: string, data: Buffer): Promise<void> {
    const checksummed = contentInChecksum(name);
    await this.write(entryHeader(name, data.length));
    await this.write(data, checksummed);
    const pad = padding(data.length);
    if (pad) await this.write(Buffer.alloc(pad), checksummed);
  }

  /**
   * An entry whose content comes in pieces; exactly `size` bytes MUST come, or the entry fails.
   * Table chunks leave their content out of archive.sha256 (contentInChecksum): the manifest's
   * table digests cover it, and hashing it twice cost more CPU than any step of `backup create`
   * but reading.
   */
  async addStreamEntry(
    name: string,
    size: number,
    source: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<void> {
    const checksummed = contentInChecksum(name);
    await this.write(entryHeader(name, size));
    let n = 0;
    for await (const piece of source) {
      n += piece.length;
      if (n > size) break;
      await this.write(piece, checksummed);
    }
    if (n !== size)
      throw new RuntimeFailure(`${name} changed size while it was being archived.`, {
        code: 'BACKUP_WRITE_FAILED',
      });
    const pad = padding(size);
    if (pad) await this.write(Buffer.alloc(pad), checksummed);
  }

  /** Appends archive.sha256 and the end-of-archive blocks, then fsyncs and renames into place. */
  async finish(): Promise<{ file: string; bytes: number; sha256: string }> {
    const digest = this.hash.copy().digest('hex');
    await this.addEntry(ENTRY.checksum, Buffer.from(`${digest}\n`));
    await this.write(Buffer.alloc(BLOCK * 2));
    this.compressor.end();
    await this.closed;
    this.check();
    try {
      const fd = fs.openSync(this.partial, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(this.partial, this.file);
      const dfd = fs.openSync(path.dirname(this.file), 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch (err) {
      throw outputError(err, this.file);
    }
    return { file: this.file, bytes: fs.statSync(this.file).size, sha256: digest };
  }

  /** Stops writing and removes the partial file. */
  async abort(): Promise<void> {
    this.compressor.destroy();
    this.out.destroy();
    await this.closed;
    fs.rmSync(this.partial, { force: true });
  }
}
