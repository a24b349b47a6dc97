import type { Insertable, Selectable } from 'kysely';
import type {
  VariableRow as VariableRowRaw,
  VariableSetRow as VariableSetRowRaw,
} from '../schema/database-types.js';
export type VariableRow = Selectable<VariableRowRaw>;
export type VariableSetRow = Selectable<VariableSetRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import type { Db } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

/** Variable sets (one per project) and their variables. Sensitive values arrive here already sealed. */
export async function insertVariableSet(
  db: Db,
  row: Omit<Insertable<VariableSetRowRaw>, 'change_number'>,
): Promise<void> {
  await db
    .insertInto('variable_sets')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function getVariableSet(db: Db, id: string): Promise<VariableSetRow | undefined> {
  return db.selectFrom('variable_sets').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listVariables(db: Db, setId: string): Promise<VariableRow[]> {
  return db
    .selectFrom('variables')
    .selectAll()
    .where('variable_set_id', '=', setId)
    .orderBy('sort_order')
    .execute();
}

/** Replaces the whole set, as Octopus's PUT does, and bumps its version. */
export async function replaceVariables(
  db: Db,
  set: VariableSetRow,
  rows: Omit<Insertable<VariableRowRaw>, 'change_number'>[],
): Promise<void> {
  const old = await listVariables(db, set.id);
  await db.deleteFrom('variables').where('variable_set_id', '=', set.id).execute();
  const kept = new Set(rows.map((r) => r.id));
  for (const o of old) if (!kept.has(o.id)) await addTombstone(db, 'variables', o.id);
  for (const r of rows) {
    await db
      .insertInto('variables')
      .values({ ...r, change_number: await nextChangeNumber(db) })
      .execute();
  }
  await db
    .updateTable('variable_sets')
    .set({ version: set.version + 1, change_number: await nextChangeNumber(db) })
    .where('id', '=', set.id)
    .execute();
}

export async function deleteVariableSet(db: Db, setId: string): Promise<void> {
  const old = await listVariables(db, setId);
  await db.deleteFrom('variables').where('variable_set_id', '=', setId).execute();
  for (const o of old) await addTombstone(db, 'variables', o.id);
  await db.deleteFrom('variable_sets').where('id', '=', setId).execute();
  await addTombstone(db, 'variable_sets', setId);
}
