import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import { createGunzip, createGzip, type ZlibOptions } from 'node:zlib';
import { PreconditionError } from '../../lib/errors.js';

/**
 * How an archive's tar stream is compressed. zstd (level 1, through the `zstd` program, which runs
 * beside Cuttle on another core) where it is installed; gzip (level 1, Node's zlib) otherwise:
 * zstd costs a quarter of gzip's CPU for half its output, and inflates faster too
 * (docs/performance.md, "Figures behind design choices"). An `--output` name ending in `.gz`/`.tgz` or
 * `.zst`/`.tzst` chooses the one it names, as `tar -a` does; readers tell them apart by their magic
 * bytes, so a renamed archive still reads.
 */
export type Compression = 'zstd' | 'gzip';

const ZSTD = process.env.CUTTLE_ZSTD ?? 'zstd';
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

let zstdFound: boolean | undefined;
function zstdAvailable(): boolean {
  zstdFound ??= spawnSync(ZSTD, ['--version'], { stdio: 'ignore' }).status === 0;
  return zstdFound;
}

/** The compression for an archive file name (its extension, else zstd where installed). */
export function compressionFor(file: string): Compression {
  if (/\.(tgz|gz)$/i.test(file)) return 'gzip';
  if (/\.(tzst|zst)$/i.test(file)) return 'zstd';
  return defaultCompression();
}

function defaultCompression(): Compression {
  const forced = process.env.CUTTLE_BACKUP_COMPRESSION;
  if (forced === 'gzip' || forced === 'zstd') return forced;
  return zstdAvailable() ? 'zstd' : 'gzip';
}

export function archiveExtension(c: Compression = defaultCompression()): string {
  return c === 'zstd' ? '.tar.zst' : '.tar.gz';
}

/** Whether a file name is a backup archive's (either compression). */
export function isArchiveName(name: string): boolean {
  return /\.tar\.(gz|zst)$/.test(name);
}

function zstdMissing(): PreconditionError {
  return new PreconditionError('This needs the zstd program, which is not installed.', {
    code: 'TOOL_MISSING',
    hints: ['Install it (apt-get install zstd), or write a gzip archive with --output NAME.tar.gz.'],
  });
}

/** A compressor to pipe the tar stream through: write/drain/end, with `pipe` to the file. */
export function compressor(c: Compression): Duplex {
  if (c === 'gzip') {
    // Level 1: on 2 cores level 6 made `backup create` CPU-bound at a third of the speed for ~12%
    // less size. Up to 4 MB may wait for the compressor (it runs on libuv's pool): encoding the
    // next rows overlaps compressing the last ones instead of waiting for each 256 KB to drain.
    const options: ZlibOptions & { writableHighWaterMark: number } = {
      level: 1,
      memLevel: 9,
      chunkSize: 1 << 18,
      writableHighWaterMark: 4 << 20,
    };
    return createGzip(options);
  }
  if (!zstdAvailable()) throw zstdMissing();
  // --check (the default) puts an XXH64 of the content in the frame: a changed byte is caught
  const child = spawn(ZSTD, ['-1', '-q', '-c', '--check'], { stdio: ['pipe', 'pipe', 'pipe'] });
  return childStream(child, 'zstd');
}

/** The archive file's bytes decompressed, whichever compression its magic bytes name. */
export function decompressed(file: string, onCompressedBytes: (n: number) => void): Readable {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  let n = 0;
  try {
    n = fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  input.on('data', (d) => onCompressedBytes(d.length));
  if (n === 4 && head.equals(ZSTD_MAGIC)) {
    if (!zstdAvailable()) {
      input.destroy();
      throw zstdMissing();
    }
    const child = spawn(ZSTD, ['-d', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = childStream(child, 'zstd');
    input.on('error', (e) => out.destroy(e));
    input.pipe(out);
    return out;
  }
  // gzip, or anything else: the inflater names what is wrong with it
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  input.on('error', (e) => gunzip.destroy(e));
  return input.pipe(gunzip);
}

/** An error of the zstd program, with what it said (truncated input, corrupt block, checksum). */
class ZstdError extends Error {}

/**
 * A child process as one duplex stream: writes go to its stdin, reads come from its stdout, and
 * the readable side ends only once the process has exited with 0 (otherwise it fails with what the
 * program wrote to stderr): so a truncated input is an error, not a short read.
 */
function childStream(child: ReturnType<typeof spawn>, name: string): Duplex {
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code) => resolve(code ?? -1));
  });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  child.stdout!.pipe(out, { end: false });
  child.stdout!.on('end', () => {
    void exited.then((code) => {
      if (code === 0) out.end();
      else out.destroy(new ZstdError(`${name}: ${stderr.trim() || `exit code ${code}`}`));
    });
  });
  child.stdin!.on('error', () => {}); // EPIPE when the program stopped early: its exit says why
  // Up to 4 MB may wait for the program (as for gzip): a pipe's own 16 KB buffer made the writer
  // wait for a drain every few writes.
  const input = new PassThrough({ highWaterMark: 4 << 20 });
  input.pipe(child.stdin!);
  const duplex = Duplex.from({ writable: input, readable: out });
  child.on('error', (e) => duplex.destroy(e));
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return duplex;
}
