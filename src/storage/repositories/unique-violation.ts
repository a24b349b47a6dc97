/**
 * True when a driver error is a unique-key violation: SQLite SQLITE_CONSTRAINT_UNIQUE /
 * PRIMARYKEY, PostgreSQL 23505, MySQL ER_DUP_ENTRY (1062). Lets a service turn a lost race into a
 * retry or a 409 without knowing the engine.
 */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = String(e.code ?? '');
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    e.errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
