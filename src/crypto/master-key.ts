import { createHash, randomBytes } from 'node:crypto';
import { PreconditionError } from '../lib/errors.js';
import { registerSecret } from '../lib/redact.js';

/**
 * The master key: 256 random bits that encrypt every sensitive value. Written as base64 text.
 * Its key id (the first 16 hex digits of SHA-256 of the key) is stored beside every envelope, so a
 * wrong key is recognised by id before any decryption is attempted.
 */
export class MasterKey {
  readonly bytes: Buffer;
  readonly id: string;

  private constructor(bytes: Buffer) {
    this.bytes = bytes;
    this.id = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    registerSecret(this.toBase64());
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  /** Accepts the base64 text of a key (as `show-master-key` prints it), surrounding whitespace ignored. */
  static parse(text: string, source: string): MasterKey {
    const t = text.trim();
    const bytes = /^[A-Za-z0-9+/=_-]+$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
    if (bytes.length !== 32) {
      throw new PreconditionError(`The master key from ${source} is not a 256-bit base64 key.`, {
        code: 'MASTER_KEY_INVALID',
        hints: ['A master key is 44 characters of base64, as printed by `cuttle show-master-key`.'],
      });
    }
    return new MasterKey(bytes);
  }

  toBase64(): string {
    return this.bytes.toString('base64');
  }
}
