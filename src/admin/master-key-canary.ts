import type { Kysely } from 'kysely';
import { envelopeKeyId, open, seal, WrongMasterKeyError } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import { PreconditionError } from '../lib/errors.js';
import { getMeta, META, setMeta } from '../storage/repositories/metadata-repository.js';
import type { Database } from '../storage/schema/database-types.js';

/**
 * The canary is a known plaintext sealed with the master key and stored in the database. Opening it
 * tells "right key" from "wrong key" (key id differs, or GCM fails) before any sensitive value is
 * read or written, so a wrong key is refused up front instead of producing half-decrypted data.
 */
const PLAINTEXT = 'cuttle master key canary';

export async function writeCanary(db: Kysely<Database>, key: MasterKey): Promise<void> {
  await setMeta(db, META.canary, seal(key, PLAINTEXT));
}

export type CanaryResult =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'missing' | 'wrong-key' | 'corrupt'; keyId?: string };

export async function checkCanary(db: Kysely<Database>, key: MasterKey): Promise<CanaryResult> {
  return checkCanaryValue(await getMeta(db, META.canary), key);
}

/** The same check on a canary value read elsewhere (a backup archive's instance_metadata). */
export function checkCanaryValue(env: string | undefined, key: MasterKey): CanaryResult {
  if (!env) return { ok: false, reason: 'missing' };
  const keyId = envelopeKeyId(env);
  if (keyId !== key.id) return { ok: false, reason: 'wrong-key', keyId };
  try {
    return open(key, env) === PLAINTEXT ? { ok: true, keyId } : { ok: false, reason: 'corrupt', keyId };
  } catch {
    return { ok: false, reason: 'corrupt', keyId };
  }
}

export async function requireCanary(db: Kysely<Database>, key: MasterKey, where: string): Promise<void> {
  const r = await checkCanary(db, key);
  if (r.ok) return;
  if (r.reason === 'wrong-key')
    throw new WrongMasterKeyError(r.keyId ?? 'unknown', `the database at ${where}`);
  if (r.reason === 'missing') {
    throw new PreconditionError(
      `The database at ${where} has no master-key canary: it was not set up by Cuttle.`,
      { code: 'CANARY_MISSING' },
    );
  }
  throw new PreconditionError(`The master-key canary in ${where} is damaged.`, {
    code: 'CANARY_DAMAGED',
    hints: ['Restore the database from a backup, or run `cuttle lost-master-key` if the key is lost.'],
  });
}
