import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ForbiddenError, UnauthorizedError, UsageError } from '../lib/errors.js';
import {
  deleteExpiredSessions,
  deleteSession,
  getSession,
  insertSession,
  type SessionRow,
  touchSession,
} from '../storage/repositories/session-repository.js';
import { findUserByUsername, getUser, type UserRow } from '../storage/repositories/user-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, isRole } from './actor.js';
import { hashPassword, verifyPassword } from './credentials.js';
import { writeEvent } from './event-service.js';
import { lockedUntil, normalizeSignInName, recordFailure, resetFailures } from './sign-in-lockout.js';

/**
 * Portal sessions: a random token in an HttpOnly cookie, stored only as its SHA-256 (in
 * portal_sessions, shared by every node), with a CSRF token the portal must echo in a header on
 * every state-changing request. A session ends after SESSION_IDLE_MS without a request, after
 * SESSION_MAX_MS in any case, on sign-out, and when its user is deactivated.
 */
const SESSION_IDLE_MS = 12 * 60 * 60_000;
export const SESSION_MAX_MS = 7 * 24 * 60 * 60_000;
/** last_seen is written at most this often per session (a busy portal must not write per request). */
const TOUCH_EVERY_MS = 60_000;

export interface PortalSession {
  id: string;
  actor: Actor;
  csrfToken: string;
  expires: string;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

export function sessionIdOf(sessionToken: string): string {
  return createHash('sha256').update(sessionToken, 'utf8').digest('hex');
}

function actorOf(user: UserRow): Actor {
  return { userId: user.id, username: user.username, role: isRole(user.role) ? user.role : 'deployer' };
}

// Verified against when the username does not exist, so the answer takes as long either way.
const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));

const WRONG = 'The username or password is wrong.';

function lockedError(until: string): UnauthorizedError {
  const minutes = Math.max(1, Math.ceil((Date.parse(until) - Date.now()) / 60_000));
  return new UnauthorizedError(
    `Too many failed sign-ins for this username: it is locked for ${minutes} more minute(s). An administrator can reset the password with \`cuttle admin\`.`,
    { code: 'SIGN_IN_LOCKED' },
  );
}

/**
 * Checks the password (refusing a locked username before checking anything), counts a failure or
 * clears the count, and opens a session. Returns the clear session token once: only its hash is kept.
 */
export async function signIn(
  db: Kysely<Database>,
  input: { username: string; password: string },
): Promise<{ token: string; session: PortalSession }> {
  if (!input.username?.trim() || !input.password)
    throw new UsageError('Username and Password are required.', { code: 'SIGN_IN_FIELDS_MISSING' });
  const name = normalizeSignInName(input.username);
  const locked = await lockedUntil(db, name);
  if (locked) throw lockedError(locked);
  const user = await findUserByUsername(db, name);
  const ok = verifyPassword(input.password, user?.password_hash ?? DUMMY_HASH) && !!user?.password_hash;
  if (!ok || !user || !toBool(user.is_active)) {
    const nowLocked = await recordFailure(db, name);
    await writeEvent(db, {
      category: 'LoginFailed',
      message: `A sign-in as ${input.username.trim().slice(0, 64)} failed${nowLocked ? '; the username is locked' : ''}.`,
      relatedDocumentIds: user ? [user.id] : [],
      userId: null,
      username: input.username.trim().slice(0, 64),
    });
    if (nowLocked) throw lockedError(nowLocked);
    throw new UnauthorizedError(WRONG, { code: 'SIGN_IN_FAILED' });
  }
  await resetFailures(db, name);
  const now = new Date();
  await deleteExpiredSessions(db, now.toISOString(), new Date(now.getTime() - SESSION_IDLE_MS).toISOString());
  const clear = token();
  const row = {
    id: sessionIdOf(clear),
    user_id: user.id,
    csrf_token: token(),
    created: now.toISOString(),
    last_seen: now.toISOString(),
    expires: new Date(now.getTime() + SESSION_MAX_MS).toISOString(),
  };
  await insertSession(db, row);
  await writeEvent(db, {
    category: 'LoginSucceeded',
    message: `User ${user.username} signed in to the portal.`,
    relatedDocumentIds: [user.id],
    userId: user.id,
    username: user.username,
  });
  return {
    token: clear,
    session: { id: row.id, actor: actorOf(user), csrfToken: row.csrf_token, expires: row.expires },
  };
}

function live(row: SessionRow, now: number): boolean {
  return row.expires > new Date(now).toISOString() && Date.parse(row.last_seen) + SESSION_IDLE_MS > now;
}

/** The session a cookie names, or a 401 when it is unknown, expired, or its user is inactive. */
export async function resolveSession(db: Kysely<Database>, sessionToken: string): Promise<PortalSession> {
  const row = await getSession(db, sessionIdOf(sessionToken));
  const now = Date.now();
  if (!row || !live(row, now))
    throw new UnauthorizedError('Your session has ended: sign in again.', { code: 'SESSION_ENDED' });
  const user = await getUser(db, row.user_id);
  if (!user || !toBool(user.is_active))
    throw new UnauthorizedError('Your session has ended: sign in again.', { code: 'SESSION_ENDED' });
  if (now - Date.parse(row.last_seen) > TOUCH_EVERY_MS)
    await touchSession(db, row.id, new Date(now).toISOString());
  return { id: row.id, actor: actorOf(user), csrfToken: row.csrf_token, expires: row.expires };
}

export function csrfMatches(session: PortalSession, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function signOut(db: Kysely<Database>, session: PortalSession): Promise<void> {
  await deleteSession(db, session.id);
  await writeEvent(db, {
    category: 'LoggedOut',
    message: `User ${session.actor.username} signed out of the portal.`,
    relatedDocumentIds: session.actor.userId ? [session.actor.userId] : [],
    userId: session.actor.userId,
    username: session.actor.username,
  });
}

/**
 * Re-entering the password (the master key page): no session is made, failures count toward the
 * lockout. Refusals are 403, not 401: the caller is signed in, only this confirmation failed.
 */
export async function confirmPassword(db: Kysely<Database>, actor: Actor, password: string): Promise<void> {
  if (!actor.userId) throw new ForbiddenError('This request is not made by a user.', { code: 'NOT_A_USER' });
  const user = await getUser(db, actor.userId);
  const name = normalizeSignInName(user?.username ?? '');
  const locked = await lockedUntil(db, name);
  if (locked) throw new ForbiddenError(lockedError(locked).message, { code: 'PASSWORD_RECHECK_LOCKED' });
  if (!user || !password || !verifyPassword(password, user.password_hash)) {
    const nowLocked = await recordFailure(db, name);
    if (nowLocked)
      throw new ForbiddenError(lockedError(nowLocked).message, { code: 'PASSWORD_RECHECK_LOCKED' });
    throw new ForbiddenError('The password is wrong.', { code: 'PASSWORD_RECHECK_FAILED' });
  }
  await resetFailures(db, name);
}
