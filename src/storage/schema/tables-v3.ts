import type { TableSpec } from './column-types.js';

const c = (name: string, type: TableSpec['columns'][number]['type'], nullable = false) => ({
  name,
  type,
  nullable,
});

/**
 * The web portal's sign-in state, in the database so every node of an instance shares it (a
 * session made on one node is valid on the others, and a lockout counts failures from all of
 * them). Frozen like tables-v1.ts: a later change adds a migration.
 *
 * `portal_sessions.id` is the SHA-256 of the session token the browser holds: a copy of the
 * database (a backup, a replica) yields no usable session.
 */
export const PORTAL_TABLES_V3: TableSpec[] = [
  {
    name: 'portal_sessions',
    columns: [
      c('id', 'id'),
      c('user_id', 'id'),
      c('csrf_token', 'text'),
      c('created', 'timestamp'),
      c('last_seen', 'timestamp'),
      c('expires', 'timestamp'),
      c('change_number', 'bigint'),
    ],
    primaryKey: ['id'],
    indexes: [{ name: 'ix_portal_sessions_user', columns: ['user_id'] }],
  },
  {
    name: 'sign_in_failures',
    columns: [
      c('username_normalized', 'id'),
      c('failures', 'int'),
      c('first_failure', 'timestamp'),
      c('locked_until', 'timestamp', true),
      c('change_number', 'bigint'),
    ],
    primaryKey: ['username_normalized'],
  },
];
