import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError, UsageError } from '../lib/errors.js';
import {
  deleteEnvironment,
  type EnvironmentRow,
  findEnvironmentByName,
  getEnvironment,
  insertEnvironment,
  listEnvironments,
  maxEnvironmentSortOrder,
  type NewEnvironmentRow,
  updateEnvironment,
} from '../storage/repositories/environment-repository.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';
import { requireSpace } from './space-service.js';

export interface EnvironmentInput {
  Name?: string;
  Description?: string;
  SortOrder?: number;
  UseGuidedFailure?: boolean;
  AllowDynamicInfrastructure?: boolean;
}

export function environmentResource(row: EnvironmentRow) {
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Name: row.name,
    Slug: row.name_normalized.replace(/[^a-z0-9]+/g, '-'),
    Description: row.description,
    SortOrder: row.sort_order,
    UseGuidedFailure: toBool(row.use_guided_failure),
    AllowDynamicInfrastructure: toBool(row.allow_dynamic_infrastructure),
    ExtensionSettings: [] as unknown[],
    Links: { Self: `/api/${row.space_id}/environments/${row.id}` },
  };
}
export type EnvironmentResource = ReturnType<typeof environmentResource>;

export async function requireEnvironment(
  db: Kysely<Database>,
  spaceId: string,
  id: string,
): Promise<EnvironmentRow> {
  const row = await getEnvironment(db, spaceId, id);
  if (!row)
    throw new NotFoundError(`The environment ${id} does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return row;
}

/** By Id or (case-insensitive) Name, as the Executions API names environments. */
export async function resolveEnvironment(db: Kysely<Database>, spaceId: string, idOrName: string) {
  const v = idOrName.trim();
  const row = (await getEnvironment(db, spaceId, v)) ?? (await findEnvironmentByName(db, spaceId, v));
  if (!row)
    throw new NotFoundError(`The environment "${v}" does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return row;
}

export async function listEnvironmentResources(db: Kysely<Database>, spaceId: string, f: ListFilter) {
  const page = await listEnvironments(db, spaceId, f);
  return { total: page.total, items: page.rows.map(environmentResource) };
}

async function save(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  input: EnvironmentInput,
  existingId?: string,
): Promise<EnvironmentResource> {
  requireAdministrator(actor, 'change environments');
  return db.transaction().execute(async (tx) => {
    await requireSpace(tx, spaceId);
    const base = existingId ? await requireEnvironment(tx, spaceId, existingId) : undefined;
    const name = (input.Name ?? base?.name ?? '').trim();
    if (!name) throw new UsageError('An environment needs a Name.', { code: 'REQUEST_INVALID' });
    const clash = await findEnvironmentByName(tx, spaceId, name);
    if (clash && clash.id !== existingId) {
      throw new ConflictError(`An environment named "${name}" already exists in ${spaceId}.`, {
        code: 'NAME_TAKEN',
      });
    }
    const row: NewEnvironmentRow = {
      id: base?.id ?? (await nextId(tx, 'Environments')),
      space_id: spaceId,
      name,
      name_normalized: name.toLowerCase(),
      description: input.Description ?? base?.description ?? '',
      sort_order: input.SortOrder ?? base?.sort_order ?? (await maxEnvironmentSortOrder(tx, spaceId)) + 1,
      use_guided_failure: input.UseGuidedFailure ?? (base ? toBool(base.use_guided_failure) : false),
      allow_dynamic_infrastructure:
        input.AllowDynamicInfrastructure ?? (base ? toBool(base.allow_dynamic_infrastructure) : false),
    };
    if (base) await updateEnvironment(tx, row);
    else await insertEnvironment(tx, row);
    await writeEvent(tx, {
      category: base ? 'Modified' : 'Created',
      message: `Environment ${name} was ${base ? 'modified' : 'created'}.`,
      relatedDocumentIds: [row.id],
      spaceId,
      ...eventActor(actor),
    });
    return environmentResource({ ...row, change_number: 0 } as EnvironmentRow);
  });
}

export function createEnvironment(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  input: EnvironmentInput,
) {
  return save(db, actor, spaceId, input);
}

export function modifyEnvironment(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  id: string,
  input: EnvironmentInput,
) {
  return save(db, actor, spaceId, input, id);
}

export async function removeEnvironment(db: Kysely<Database>, actor: Actor, spaceId: string, id: string) {
  requireAdministrator(actor, 'delete environments');
  await db.transaction().execute(async (tx) => {
    const row = await requireEnvironment(tx, spaceId, id);
    await deleteEnvironment(tx, id);
    await writeEvent(tx, {
      category: 'Deleted',
      message: `Environment ${row.name} was deleted.`,
      relatedDocumentIds: [id],
      spaceId,
      ...eventActor(actor),
    });
  });
}
