import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PreconditionError, RuntimeFailure } from '../lib/errors.js';
import type { MasterKey } from './master-key.js';

/**
 * Envelope format for sensitive values: `cuttle1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 * AES-256-GCM with a random 96-bit IV per value; the key id lets a caller tell "encrypted with a
 * different key" from "corrupted".
 */
const PREFIX = 'cuttle1';

export function seal(key: MasterKey, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [PREFIX, key.id, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join(
    '.',
  );
}

export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split('.');
  return parts.length === 5 && parts[0] === PREFIX ? parts[1] : undefined;
}

export class WrongMasterKeyError extends PreconditionError {
  constructor(expectedKeyId: string, what = 'this data') {
    super(`The master key does not match ${what}: it was encrypted with key ${expectedKeyId}.`, {
      code: 'MASTER_KEY_WRONG',
      hints: [
        'Supply the master key this instance was created with: --master-key-file FILE or the CUTTLE_MASTER_KEY variable.',
        'If the key is lost for good, `cuttle lost-master-key` resets the sensitive values.',
      ],
    });
  }
}

export function open(key: MasterKey, envelope: string): string {
  const parts = envelope.split('.');
  if (parts.length !== 5 || parts[0] !== PREFIX)
    throw new RuntimeFailure('A sensitive value is not a valid envelope.', { code: 'SECRET_DAMAGED' });
  const [, keyId, iv, ct, tag] = parts as [string, string, string, string, string];
  if (keyId !== key.id) throw new WrongMasterKeyError(keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new RuntimeFailure('A sensitive value failed its integrity check: the stored data is corrupt.', {
      code: 'SECRET_DAMAGED',
      cause: err,
    });
  }
}
