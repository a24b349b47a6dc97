import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  UsageError,
} from '../lib/errors.js';
import { registerSecret } from '../lib/redact.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import {
  type ApiKeyRow,
  countUsers,
  findApiKeyByHash,
  findUserByUsername,
  getUser,
  insertApiKey,
  insertUser,
  listUsers,
  type UserRow,
  updateUser,
} from '../storage/repositories/user-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, eventActor, isRole, type Role, requireAdministrator, SYSTEM_ACTOR } from './actor.js';
import { generateApiKey, hashApiKey, hashPassword, isApiKeyFormat } from './credentials.js';
import { writeEvent } from './event-service.js';

export function userResource(row: UserRow) {
  return {
    Id: row.id,
    Username: row.username,
    DisplayName: row.display_name,
    EmailAddress: row.email,
    IsActive: toBool(row.is_active),
    IsService: toBool(row.is_service),
    IsRequestor: false,
    CanPasswordBeEdited: true,
    Identities: [] as unknown[],
    CuttleRole: row.role,
    Links: { Self: `/api/users/${row.id}`, ApiKeys: `/api/users/${row.id}/apikeys` },
  };
}

export function apiKeyResource(row: ApiKeyRow, clearKey?: string) {
  return {
    Id: row.id,
    UserId: row.user_id,
    Purpose: row.purpose,
    Created: row.created,
    Expires: null,
    // Only in the answer that created it: the server keeps nothing but its hash.
    ApiKey: clearKey ?? null,
    Links: { Self: `/api/users/${row.user_id}/apikeys/${row.id}` },
  };
}

/** Resolves an API key to its user; unknown keys and inactive users are 401. */
export async function authenticateApiKey(db: Kysely<Database>, key: string): Promise<Actor> {
  const found = isApiKeyFormat(key) ? await findApiKeyByHash(db, hashApiKey(key)) : undefined;
  const user = found ? await getUser(db, found.user_id) : undefined;
  if (!user || !toBool(user.is_active))
    throw new UnauthorizedError('The API key is not valid.', { code: 'UNAUTHORIZED' });
  return { userId: user.id, username: user.username, role: isRole(user.role) ? user.role : 'deployer' };
}

export interface NewUserInput {
  username: string;
  role: Role;
  password?: string;
  displayName?: string;
  email?: string | null;
  isService?: boolean;
}

function checkUsername(username: string): string {
  const u = username.trim();
  if (!u || u.length > 64 || /[\s]/.test(u))
    throw new UsageError('A username is 1 to 64 characters without spaces.', { code: 'REQUEST_INVALID' });
  return u;
}

export async function createUser(db: Kysely<Database>, actor: Actor, input: NewUserInput) {
  requireAdministrator(actor, 'create users');
  const username = checkUsername(input.username);
  if (!isRole(input.role))
    throw new UsageError('The role must be administrator or deployer.', { code: 'REQUEST_INVALID' });
  if (input.password) registerSecret(input.password);
  return db.transaction().execute(async (tx) => {
    if (await findUserByUsername(tx, username))
      throw new ConflictError(`A user named "${username}" already exists.`, { code: 'NAME_TAKEN' });
    const row = {
      id: await nextId(tx, 'Users'),
      username,
      username_normalized: username.toLowerCase(),
      display_name: input.displayName?.trim() || username,
      email: input.email ?? null,
      password_hash: input.password ? hashPassword(input.password) : null,
      role: input.role,
      is_active: true,
      is_service: input.isService ?? false,
      created: nowIso(),
    };
    await insertUser(tx, row);
    await writeEvent(tx, {
      category: 'Created',
      message: `User ${username} was created with the ${input.role} role.`,
      relatedDocumentIds: [row.id],
      ...eventActor(actor),
    });
    return { ...row, change_number: 0 } as UserRow;
  });
}

/**
 * Registers an API key for a user. With `clearKey` that exact key is registered (so scripts can
 * provision a known key); otherwise a new one is generated. The clear key is returned once.
 */
export async function addApiKey(
  db: Kysely<Database>,
  actor: Actor,
  userId: string,
  purpose: string,
  clearKey?: string,
): Promise<{ row: ApiKeyRow; key: string }> {
  if (actor.userId !== userId) requireAdministrator(actor, "create another user's API keys");
  const key = clearKey ?? generateApiKey();
  if (!isApiKeyFormat(key))
    throw new UsageError('An API key is "API-" followed by at least 26 upper-case letters or digits.', {
      code: 'REQUEST_INVALID',
    });
  registerSecret(key);
  return db.transaction().execute(async (tx) => {
    const user = await getUser(tx, userId);
    if (!user) throw new NotFoundError(`The user ${userId} does not exist.`, { code: 'NOT_FOUND' });
    const existing = await findApiKeyByHash(tx, hashApiKey(key));
    if (existing) {
      if (existing.user_id !== userId)
        throw new ConflictError('That API key is already registered to another user.', {
          code: 'API_KEY_TAKEN',
        });
      return { row: existing, key };
    }
    const row = {
      id: await nextId(tx, 'ApiKeys'),
      user_id: userId,
      purpose: purpose || 'API key',
      key_hash: hashApiKey(key),
      created: nowIso(),
    };
    await insertApiKey(tx, row);
    await writeEvent(tx, {
      category: 'Created',
      message: `An API key was created for user ${user.username}.`,
      relatedDocumentIds: [userId, row.id],
      ...eventActor(actor),
    });
    return { row: { ...row, change_number: 0 }, key };
  });
}

/**
 * `cuttle admin`: creates the user as an administrator, or makes an existing user an active
 * administrator and resets its password when one is given.
 */
export async function createOrResetAdministrator(
  db: Kysely<Database>,
  input: { username: string; password?: string; actor?: Actor },
): Promise<{ user: UserRow; created: boolean }> {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const existing = await findUserByUsername(db, checkUsername(input.username));
  if (!existing) {
    const user = await createUser(db, actor, {
      username: input.username,
      role: 'administrator',
      password: input.password,
    });
    return { user, created: true };
  }
  if (input.password) registerSecret(input.password);
  const row = {
    ...existing,
    role: 'administrator',
    is_active: true,
    is_service: toBool(existing.is_service),
    password_hash: input.password ? hashPassword(input.password) : existing.password_hash,
  };
  await db.transaction().execute(async (tx) => {
    await updateUser(tx, row);
    await writeEvent(tx, {
      category: 'Modified',
      message: `User ${row.username} was made an administrator${input.password ? ' and its password was reset' : ''}.`,
      relatedDocumentIds: [row.id],
      ...eventActor(actor),
    });
  });
  return { user: row, created: false };
}

export async function requireUser(db: Kysely<Database>, id: string): Promise<UserRow> {
  const u = await getUser(db, id);
  if (!u) throw new NotFoundError(`The user ${id} does not exist.`, { code: 'NOT_FOUND' });
  return u;
}

export async function currentUser(db: Kysely<Database>, actor: Actor): Promise<UserRow> {
  if (!actor.userId) throw new ForbiddenError('This request is not made by a user.', { code: 'FORBIDDEN' });
  return requireUser(db, actor.userId);
}

export async function listUserResources(db: Kysely<Database>, f: ListFilter) {
  const page = await listUsers(db, f);
  return { total: page.total, items: page.rows.map(userResource) };
}

/**
 * First start: when no user exists, create `admin` with a fresh API key and return the key once
 * (the server prints it). Returns undefined when users already exist.
 */
export async function ensureInitialAdmin(
  db: Kysely<Database>,
): Promise<{ username: string; apiKey: string } | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  try {
    const user = await createUser(db, SYSTEM_ACTOR, { username: 'admin', role: 'administrator' });
    const { key } = await addApiKey(db, SYSTEM_ACTOR, user.id, 'Created on first start');
    return { username: user.username, apiKey: key };
  } catch (err) {
    // Another node created it at the same moment: it printed the key, this one has nothing to show.
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
}
