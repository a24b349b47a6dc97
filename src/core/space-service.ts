import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError, UsageError } from '../lib/errors.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import { insertLifecycle } from '../storage/repositories/lifecycle-repository.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { insertProjectGroup } from '../storage/repositories/project-group-repository.js';
import {
  deleteSpace,
  deleteSpaceContents,
  findSpaceByName,
  getSpace,
  insertSpace,
  listSpaces,
  type NewSpaceRow,
  type SpaceRow,
  updateSpace,
} from '../storage/repositories/space-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';
import { slugify } from './slug.js';

export interface SpaceResource {
  Id: string;
  Name: string;
  Slug: string;
  Description: string;
  IsDefault: boolean;
  TaskQueueStopped: boolean;
  SpaceManagersTeams: string[];
  SpaceManagersTeamMembers: string[];
  Links: Record<string, string>;
}

export interface SpaceInput {
  Name?: string;
  Slug?: string;
  Description?: string;
  IsDefault?: boolean;
  TaskQueueStopped?: boolean;
  SpaceManagersTeams?: string[];
  SpaceManagersTeamMembers?: string[];
}

export function spaceResource(row: SpaceRow): SpaceResource {
  const extra = JSON.parse(row.json || '{}') as Partial<SpaceResource>;
  return {
    Id: row.id,
    Name: row.name,
    Slug: row.slug,
    Description: row.description,
    IsDefault: toBool(row.is_default),
    TaskQueueStopped: toBool(row.task_queue_stopped),
    SpaceManagersTeams: extra.SpaceManagersTeams ?? [],
    SpaceManagersTeamMembers: extra.SpaceManagersTeamMembers ?? [],
    Links: { Self: `/api/spaces/${row.id}`, Web: `/app#/${row.id}` },
  };
}

export async function requireSpace(db: Kysely<Database>, id: string): Promise<SpaceRow> {
  const row = await getSpace(db, id);
  if (!row) throw new NotFoundError(`The space ${id} does not exist.`, { code: 'SPACE_NOT_FOUND' });
  return row;
}

export async function listSpaceResources(db: Kysely<Database>, f: ListFilter) {
  const page = await listSpaces(db, f);
  return { total: page.total, items: page.rows.map(spaceResource) };
}

/**
 * Every space starts with "Default Project Group" and a phase-less "Default Lifecycle": the
 * official client's tests take `Items[0]` of both right after creating a space.
 */
export async function seedSpaceLibrary(db: Kysely<Database>, spaceId: string): Promise<void> {
  await insertProjectGroup(db, {
    id: await nextId(db, 'ProjectGroups'),
    space_id: spaceId,
    name: 'Default Project Group',
    description: '',
  });
  await insertLifecycle(db, {
    id: await nextId(db, 'Lifecycles'),
    space_id: spaceId,
    name: 'Default Lifecycle',
    description: 'All environments, in any order.',
    json: JSON.stringify({ Phases: [], ReleaseRetentionPolicy: null, TentacleRetentionPolicy: null }),
  });
}

function rowFrom(id: string, input: SpaceInput, base?: SpaceRow): NewSpaceRow {
  const name = (input.Name ?? base?.name ?? '').trim();
  if (!name) throw new UsageError('A space needs a Name.', { code: 'REQUEST_INVALID' });
  const old = base ? spaceResource(base) : undefined;
  return {
    id,
    name,
    name_normalized: name.toLowerCase(),
    slug: input.Slug?.trim() || (base && base.name === name ? base.slug : slugify(name)),
    description: input.Description ?? base?.description ?? '',
    is_default: input.IsDefault ?? (base ? toBool(base.is_default) : false),
    task_queue_stopped: input.TaskQueueStopped ?? (base ? toBool(base.task_queue_stopped) : false),
    json: JSON.stringify({
      SpaceManagersTeams: input.SpaceManagersTeams ?? old?.SpaceManagersTeams ?? [],
      SpaceManagersTeamMembers: input.SpaceManagersTeamMembers ?? old?.SpaceManagersTeamMembers ?? [],
    }),
  };
}

export async function createSpace(
  db: Kysely<Database>,
  actor: Actor,
  input: SpaceInput,
): Promise<SpaceResource> {
  requireAdministrator(actor, 'create spaces');
  return db.transaction().execute(async (tx) => {
    const id = await nextId(tx, 'Spaces');
    const row = rowFrom(id, input);
    if (await findSpaceByName(tx, row.name))
      throw new ConflictError(`A space named "${row.name}" already exists.`, { code: 'NAME_TAKEN' });
    await insertSpace(tx, row);
    await seedSpaceLibrary(tx, id);
    await writeEvent(tx, {
      category: 'Created',
      message: `Space ${row.name} was created.`,
      relatedDocumentIds: [id],
      spaceId: id,
      ...eventActor(actor),
    });
    return spaceResource({ ...row, change_number: 0 } as SpaceRow);
  });
}

export async function modifySpace(
  db: Kysely<Database>,
  actor: Actor,
  id: string,
  input: SpaceInput,
): Promise<SpaceResource> {
  requireAdministrator(actor, 'modify spaces');
  return db.transaction().execute(async (tx) => {
    const base = await requireSpace(tx, id);
    const row = rowFrom(id, input, base);
    const clash = await findSpaceByName(tx, row.name);
    if (clash && clash.id !== id)
      throw new ConflictError(`A space named "${row.name}" already exists.`, { code: 'NAME_TAKEN' });
    await updateSpace(tx, row);
    await writeEvent(tx, {
      category: 'Modified',
      message: `Space ${row.name} was modified.`,
      relatedDocumentIds: [id],
      spaceId: id,
      ...eventActor(actor),
    });
    return spaceResource({ ...row, change_number: 0 } as SpaceRow);
  });
}

export async function removeSpace(db: Kysely<Database>, actor: Actor, id: string): Promise<void> {
  requireAdministrator(actor, 'delete spaces');
  await db.transaction().execute(async (tx) => {
    const base = await requireSpace(tx, id);
    if (toBool(base.is_default)) {
      throw new ConflictError('The default space cannot be deleted.', {
        code: 'RESOURCE_IN_USE',
        hints: ['Make another space the default first.'],
      });
    }
    await deleteSpaceContents(tx, id);
    await deleteSpace(tx, id);
    await writeEvent(tx, {
      category: 'Deleted',
      message: `Space ${base.name} was deleted.`,
      relatedDocumentIds: [id],
      ...eventActor(actor),
    });
  });
}
