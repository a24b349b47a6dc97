import { ForbiddenError } from '../lib/errors.js';

/**
 * Who asks. Two roles: an `administrator` may do everything (and keeps full rights in
 * maintenance mode); a `deployer` may read everything, create releases and deployments and cancel
 * tasks, and administers nothing (users, maintenance mode, spaces, environments, projects).
 */
export type Role = 'administrator' | 'deployer';

const ROLES: readonly Role[] = ['administrator', 'deployer'];

export interface Actor {
  userId: string | null;
  username: string;
  role: Role;
}

/** The server itself (seed data, first start). */
export const SYSTEM_ACTOR: Actor = { userId: null, username: 'system', role: 'administrator' };

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

export function requireAdministrator(actor: Actor, action: string): void {
  if (actor.role !== 'administrator') {
    throw new ForbiddenError(`You do not have permission to ${action}: it needs the administrator role.`, {
      code: 'FORBIDDEN',
    });
  }
}

/**
 * What an actor may read, as part of a cache key: actors with the same scope are shown the same
 * answers. Both roles read everything today; the role is still the scope, so a rule that narrows
 * one role's reading later cannot leak another role's cached answer to it.
 */
export function readScope(actor: Actor): string {
  return actor.role;
}

/** Fields every event takes from the actor. */
export function eventActor(actor: Actor): { userId: string | null; username: string } {
  return { userId: actor.userId, username: actor.username };
}
