import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { PreconditionError } from '../lib/errors.js';
import { MasterKey } from './master-key.js';

/**
 * A key bundle: the master key sealed with a key derived from a passphrase (scrypt N=2^15, r=8, p=1,
 * about 100 ms and 32 MB here), so a backup archive can carry its key without carrying it in clear.
 */
export interface KeyBundle {
  format: 'cuttle-key-bundle/1';
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  keyId: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

const PARAMS = { N: 1 << 15, r: 8, p: 1 };

function derive(passphrase: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function sealKeyBundle(key: MasterKey, passphrase: string): Promise<KeyBundle> {
  checkPassphrase(passphrase);
  const salt = randomBytes(16);
  const kek = await derive(passphrase, salt, PARAMS);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(key.id));
  const ct = Buffer.concat([cipher.update(key.bytes), cipher.final()]);
  return {
    format: 'cuttle-key-bundle/1',
    kdf: { name: 'scrypt', ...PARAMS, salt: salt.toString('base64') },
    keyId: key.id,
    iv: iv.toString('base64'),
    ciphertext: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

export async function openKeyBundle(bundle: KeyBundle, passphrase: string): Promise<MasterKey> {
  const kek = await derive(passphrase, Buffer.from(bundle.kdf.salt, 'base64'), bundle.kdf);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(bundle.iv, 'base64'));
    decipher.setAAD(Buffer.from(bundle.keyId));
    decipher.setAuthTag(Buffer.from(bundle.tag, 'base64'));
    const bytes = Buffer.concat([
      decipher.update(Buffer.from(bundle.ciphertext, 'base64')),
      decipher.final(),
    ]);
    return MasterKey.parse(bytes.toString('base64'), 'the key bundle');
  } catch {
    throw new PreconditionError('The passphrase does not open the key bundle.', {
      code: 'PASSPHRASE_WRONG',
      hints: ['Check the passphrase file; the bundle was sealed with a different passphrase.'],
    });
  }
}

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < 8) {
    throw new PreconditionError('The passphrase is shorter than 8 characters.', {
      code: 'PASSPHRASE_INVALID',
      hints: ['Use a longer passphrase in the passphrase file.'],
    });
  }
}
