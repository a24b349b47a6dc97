/**
 * The small part of POSIX tar (pax, ustar) that backup archives use: regular files, with a pax
 * extended header when a name is longer than 100 bytes or a size does not fit in 11 octal digits.
 */
export const BLOCK = 512;

export interface TarHeader {
  name: string;
  size: number;
  /** '0' file, 'x' pax header, '5' directory, ... */
  type: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

const MAX_OCTAL_SIZE = 8 ** 11 - 1;

function ustar(name: string, size: number, type: string, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(Math.min(size, MAX_OCTAL_SIZE), 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('cuttle', 265, 'ascii');
  h.write('cuttle', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

/** The header block(s) for one entry: a pax header first when ustar cannot hold the name or size. */
export function entryHeader(name: string, size: number, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const longName = Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name);
  const bigSize = size > MAX_OCTAL_SIZE;
  if (!longName && !bigSize) return ustar(name, size, '0', mtime);
  let pax = '';
  if (longName) pax += paxRecord('path', name);
  if (bigSize) pax += paxRecord('size', String(size));
  const paxBody = Buffer.from(pax, 'utf8');
  const short = Buffer.from(name, 'utf8')
    .subarray(0, 100)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '_');
  return Buffer.concat([
    ustar(`PaxHeaders/${short}`.slice(0, 100), paxBody.length, 'x', mtime),
    paxBody,
    Buffer.alloc(padding(paxBody.length)),
    ustar(short, size, '0', mtime),
  ]);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export class TarFormatError extends Error {}

/** Parses one 512-byte header block; null for an all-zero block (end of archive). */
export function parseHeader(block: Buffer): TarHeader | null {
  if (block.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  const stored = Number.parseInt(block.toString('ascii', 148, 156).replace(/\0.*$/, '').trim(), 8);
  if (stored !== sum) throw new TarFormatError('a tar header fails its checksum');
  const str = (start: number, len: number) => {
    const b = block.subarray(start, start + len);
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? len : end).toString('utf8');
  };
  const prefix = str(345, 155);
  const name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100);
  const size = Number.parseInt(str(124, 12).trim() || '0', 8);
  return { name, size, type: str(156, 1) || '0' };
}

export function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(body.toString('ascii', i, sp));
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError('a pax header is malformed');
    const rec = body.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
