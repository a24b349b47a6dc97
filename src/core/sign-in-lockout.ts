import type { Kysely } from 'kysely';
import {
  clearFailures,
  type FailureRow,
  getFailures,
  insertFailures,
  updateFailures,
} from '../storage/repositories/session-repository.js';
import { isUniqueViolation } from '../storage/repositories/unique-violation.js';
import type { Database } from '../storage/schema/database-types.js';

/**
 * Lockout after repeated failed sign-ins, counted per username in the database (every node
 * counts the same failures): LOCKOUT_FAILURES failures within LOCKOUT_WINDOW_MS lock the
 * username for LOCKOUT_MS. While it is locked even the right password is refused, unchecked.
 * Usernames that do not exist are counted too, so the answer never tells which exist.
 */
export const LOCKOUT_FAILURES = 5;
const LOCKOUT_WINDOW_MS = 15 * 60_000;
const LOCKOUT_MS = 15 * 60_000;

export function normalizeSignInName(username: string): string {
  return username.trim().toLowerCase().slice(0, 200);
}

/** When the username is locked, the time the lock ends; otherwise undefined. */
export async function lockedUntil(
  db: Kysely<Database>,
  name: string,
  now = new Date(),
): Promise<string | undefined> {
  const row = await getFailures(db, name);
  return row?.locked_until && row.locked_until > now.toISOString() ? row.locked_until : undefined;
}

function next(row: FailureRow | undefined, name: string, now: Date) {
  const iso = now.toISOString();
  const windowStart = new Date(now.getTime() - LOCKOUT_WINDOW_MS).toISOString();
  const fresh =
    !row || row.first_failure < windowStart || (row.locked_until !== null && row.locked_until <= iso);
  const failures = fresh ? 1 : row.failures + 1;
  return {
    username_normalized: name,
    failures,
    first_failure: fresh ? iso : row.first_failure,
    locked_until: failures >= LOCKOUT_FAILURES ? new Date(now.getTime() + LOCKOUT_MS).toISOString() : null,
  };
}

/** Counts one failure; returns the lock's end when this failure locked the username. */
export async function recordFailure(
  db: Kysely<Database>,
  name: string,
  now = new Date(),
): Promise<string | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await getFailures(db, name);
    const value = next(row, name, now);
    if (!row) {
      try {
        await insertFailures(db, value);
        return value.locked_until ?? undefined;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        continue; // another node counted the first failure at the same moment
      }
    }
    if (await updateFailures(db, value, row.failures)) return value.locked_until ?? undefined;
  }
  return undefined;
}

export async function resetFailures(db: Kysely<Database>, name: string): Promise<void> {
  await clearFailures(db, name);
}
