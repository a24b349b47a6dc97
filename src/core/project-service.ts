import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError, UsageError } from '../lib/errors.js';
import {
  deleteProjectChannels,
  insertChannel,
  listProjectChannels,
} from '../storage/repositories/channel-repository.js';
import {
  deleteProjectDeploymentProcess,
  insertDeploymentProcess,
} from '../storage/repositories/deployment-process-repository.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import { getLifecycle } from '../storage/repositories/lifecycle-repository.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { getProjectGroup } from '../storage/repositories/project-group-repository.js';
import {
  deleteProject,
  findProject,
  getProject,
  insertProject,
  listProjects,
  type NewProjectRow,
  type ProjectRow,
  projectSettings,
  updateProject,
} from '../storage/repositories/project-repository.js';
import { listProjectReleaseIds } from '../storage/repositories/release-repository.js';
import { deleteVariableSet, insertVariableSet } from '../storage/repositories/variable-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';
import { slugify } from './slug.js';
import { requireSpace } from './space-service.js';

export interface ProjectInput {
  Name?: string;
  Slug?: string;
  Description?: string;
  ProjectGroupId?: string;
  LifecycleId?: string;
  IsDisabled?: boolean;
  /**
   * Cuttle's own setting: a deployment whose node died inside a step is queued again instead of
   * failed. Only for processes whose steps are safe to run twice.
   */
  RetryOnNodeFailure?: boolean;
}

export const processIdOf = (projectId: string) => `deploymentprocess-${projectId}`;
export const variableSetIdOf = (projectId: string) => `variableset-${projectId}`;

export function projectResource(row: ProjectRow) {
  const p = `/api/${row.space_id}/projects/${row.id}`;
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Name: row.name,
    Slug: row.slug,
    Description: row.description,
    ProjectGroupId: row.project_group_id,
    LifecycleId: row.lifecycle_id,
    DeploymentProcessId: processIdOf(row.id),
    VariableSetId: variableSetIdOf(row.id),
    IsDisabled: toBool(row.is_disabled),
    RetryOnNodeFailure: projectSettings(row.json).RetryOnNodeFailure,
    IsVersionControlled: false,
    PersistenceSettings: { Type: 'Database' },
    TenantedDeploymentMode: 'Untenanted',
    DefaultGuidedFailureMode: 'EnvironmentDefault',
    DiscreteChannelRelease: false,
    IncludedLibraryVariableSetIds: [] as string[],
    AutoCreateRelease: false,
    Links: {
      Self: p,
      Releases: `${p}/releases`,
      DeploymentProcess: `/api/${row.space_id}/projects/${row.id}/deploymentprocesses`,
      Variables: `/api/${row.space_id}/projects/${row.id}/variables`,
    },
  };
}
export type ProjectResource = ReturnType<typeof projectResource>;

export async function requireProject(db: Kysely<Database>, spaceId: string, id: string): Promise<ProjectRow> {
  const row = await getProject(db, spaceId, id);
  if (!row) throw new NotFoundError(`The project ${id} does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return row;
}

/** By Id, Slug or Name (case-insensitive), as the Executions API names projects. */
export async function resolveProject(
  db: Kysely<Database>,
  spaceId: string,
  ref: string,
): Promise<ProjectRow> {
  const row = await findProject(db, spaceId, ref);
  if (!row)
    throw new NotFoundError(`The project "${ref}" does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return row;
}

export async function listProjectResources(db: Kysely<Database>, spaceId: string, f: ListFilter) {
  const page = await listProjects(db, spaceId, f);
  return { total: page.total, items: page.rows.map(projectResource) };
}

async function checkRefs(db: Kysely<Database>, spaceId: string, groupId: string, lifecycleId: string) {
  if (!(await getProjectGroup(db, spaceId, groupId))) {
    throw new UsageError(`The project group ${groupId} does not exist in ${spaceId}.`, {
      code: 'REQUEST_INVALID',
    });
  }
  if (!(await getLifecycle(db, spaceId, lifecycleId))) {
    throw new UsageError(`The lifecycle ${lifecycleId} does not exist in ${spaceId}.`, {
      code: 'REQUEST_INVALID',
    });
  }
}

async function checkName(db: Kysely<Database>, spaceId: string, name: string, selfId?: string) {
  const clash = await findProject(db, spaceId, name);
  if (clash && clash.id !== selfId && clash.name_normalized === name.toLowerCase()) {
    throw new ConflictError(`A project named "${name}" already exists in ${spaceId}.`, {
      code: 'NAME_TAKEN',
    });
  }
}

/** A project comes with its "Default" channel, an empty deployment process and a variable set. */
export async function createProject(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  input: ProjectInput,
) {
  requireAdministrator(actor, 'create projects');
  return db.transaction().execute(async (tx) => {
    await requireSpace(tx, spaceId);
    const name = (input.Name ?? '').trim();
    if (!name) throw new UsageError('A project needs a Name.', { code: 'REQUEST_INVALID' });
    if (!input.ProjectGroupId || !input.LifecycleId) {
      throw new UsageError('A project needs a ProjectGroupId and a LifecycleId.', {
        code: 'REQUEST_INVALID',
      });
    }
    await checkRefs(tx, spaceId, input.ProjectGroupId, input.LifecycleId);
    await checkName(tx, spaceId, name);
    const id = await nextId(tx, 'Projects');
    const row: NewProjectRow = {
      id,
      space_id: spaceId,
      name,
      name_normalized: name.toLowerCase(),
      slug: input.Slug?.trim() || slugify(name),
      description: input.Description ?? '',
      project_group_id: input.ProjectGroupId,
      lifecycle_id: input.LifecycleId,
      is_disabled: input.IsDisabled ?? false,
      json: JSON.stringify({ RetryOnNodeFailure: input.RetryOnNodeFailure ?? false }),
    };
    await insertProject(tx, row);
    const channelId = await nextId(tx, 'Channels');
    await insertChannel(tx, {
      id: channelId,
      space_id: spaceId,
      project_id: id,
      name: 'Default',
      is_default: true,
    });
    await insertDeploymentProcess(tx, {
      id: processIdOf(id),
      space_id: spaceId,
      project_id: id,
      version: 0,
      json: JSON.stringify({ Steps: [] }),
    });
    await insertVariableSet(tx, { id: variableSetIdOf(id), space_id: spaceId, owner_id: id, version: 0 });
    await writeEvent(tx, {
      category: 'Created',
      message: `Project ${name} was created.`,
      relatedDocumentIds: [id, input.ProjectGroupId],
      spaceId,
      ...eventActor(actor),
    });
    return projectResource({ ...row, change_number: 0 } as ProjectRow);
  });
}

export async function modifyProject(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  id: string,
  input: ProjectInput,
) {
  requireAdministrator(actor, 'modify projects');
  return db.transaction().execute(async (tx) => {
    const base = await requireProject(tx, spaceId, id);
    const name = (input.Name ?? base.name).trim();
    if (!name) throw new UsageError('A project needs a Name.', { code: 'REQUEST_INVALID' });
    const groupId = input.ProjectGroupId ?? base.project_group_id;
    const lifecycleId = input.LifecycleId ?? base.lifecycle_id;
    await checkRefs(tx, spaceId, groupId, lifecycleId);
    await checkName(tx, spaceId, name, id);
    const row: NewProjectRow = {
      ...base,
      name,
      name_normalized: name.toLowerCase(),
      slug: input.Slug?.trim() || base.slug,
      description: input.Description ?? base.description,
      project_group_id: groupId,
      lifecycle_id: lifecycleId,
      is_disabled: input.IsDisabled ?? toBool(base.is_disabled),
      json: JSON.stringify({
        ...safeObject(base.json),
        RetryOnNodeFailure: input.RetryOnNodeFailure ?? projectSettings(base.json).RetryOnNodeFailure,
      }),
    };
    await updateProject(tx, row);
    await writeEvent(tx, {
      category: 'Modified',
      message: `Project ${name} was modified.`,
      relatedDocumentIds: [id],
      spaceId,
      ...eventActor(actor),
    });
    return projectResource({ ...row, change_number: 0 } as ProjectRow);
  });
}

/** The stored json as an object to keep what this version does not know of. */
function safeObject(json: string | null | undefined): Record<string, unknown> {
  try {
    const v = json ? JSON.parse(json) : {};
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

export async function removeProject(db: Kysely<Database>, actor: Actor, spaceId: string, id: string) {
  requireAdministrator(actor, 'delete projects');
  await db.transaction().execute(async (tx) => {
    const row = await requireProject(tx, spaceId, id);
    if ((await listProjectReleaseIds(tx, id)).length) {
      throw new ConflictError(`The project ${row.name} has releases: delete them first.`, {
        code: 'RESOURCE_IN_USE',
      });
    }
    await deleteProjectDeploymentProcess(tx, id);
    await deleteVariableSet(tx, variableSetIdOf(id));
    await deleteProjectChannels(tx, id);
    await deleteProject(tx, id);
    await writeEvent(tx, {
      category: 'Deleted',
      message: `Project ${row.name} was deleted.`,
      relatedDocumentIds: [id],
      spaceId,
      ...eventActor(actor),
    });
  });
}

export async function defaultChannelId(db: Kysely<Database>, projectId: string): Promise<string> {
  const channels = await listProjectChannels(db, projectId);
  const def = channels.find((c) => toBool(c.is_default)) ?? channels[0];
  if (!def) throw new NotFoundError(`The project ${projectId} has no channel.`, { code: 'NOT_FOUND' });
  return def.id;
}
