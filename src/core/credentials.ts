import { createHash, randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Passwords: scrypt (N=16384, r=8, p=1, 32-byte salt, 64-byte hash), stored as
 * `scrypt$N$r$p$salt$hash`. API keys: `API-` + 30 random upper-case letters and digits
 * (about 155 bits), stored only as their SHA-256: a stolen database yields no usable key.
 */
const N = 16384;
const R = 8;
const P = 1;

export function hashPassword(password: string): string {
  const salt = randomBytes(32);
  const hash = scryptSync(password, salt, 64, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

export function verifyPassword(password: string, stored: string | null): boolean {
  if (!stored) return false;
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(expected, actual);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function generateApiKey(): string {
  let s = 'API-';
  for (let i = 0; i < 30; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Octopus keys are `API-` and at least 26 upper-case letters or digits. */
export function isApiKeyFormat(key: string): boolean {
  return /^API-[A-Z0-9]{26,}$/.test(key);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
