import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import { ConflictError, NotFoundError, UsageError } from '../lib/errors.js';
import { listProjectChannels } from '../storage/repositories/channel-repository.js';
import { deleteDeploymentsOfRelease } from '../storage/repositories/deployment-repository.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { lockProjectRow } from '../storage/repositories/project-repository.js';
import {
  deleteRelease,
  findReleaseByVersion,
  getRelease,
  insertRelease,
  listReleases,
  listReleaseVersions,
  type ReleaseRow,
  updateReleaseNotes,
} from '../storage/repositories/release-repository.js';
import { isUniqueViolation } from '../storage/repositories/unique-violation.js';
import type { Database } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { BodyBinder } from './body-binder.js';
import { loadProcess } from './deployment-process-service.js';
import { writeEvent } from './event-service.js';
import { defaultChannelId, requireProject, resolveProject } from './project-service.js';
import { snapshotVariables } from './variable-service.js';

interface ProcessSnapshot {
  Id: string;
}
interface VariableSnapshot {
  Id: string;
}

export function releaseResource(row: ReleaseRow) {
  const process = JSON.parse(row.process_snapshot_json || '{}') as ProcessSnapshot;
  const variables = JSON.parse(row.variables_snapshot_json || '{}') as VariableSnapshot;
  return {
    Id: row.id,
    SpaceId: row.space_id,
    ProjectId: row.project_id,
    ChannelId: row.channel_id,
    Version: row.version,
    ReleaseNotes: row.release_notes,
    Assembled: row.assembled,
    ProjectDeploymentProcessSnapshotId: process.Id ?? null,
    ProjectVariableSetSnapshotId: variables.Id ?? null,
    LibraryVariableSetSnapshotIds: [] as string[],
    SelectedPackages: [] as unknown[],
    SelectedGitResources: [] as unknown[],
    BuildInformation: [] as unknown[],
    IgnoreChannelRules: false,
    Links: {
      Self: `/api/${row.space_id}/releases/${row.id}`,
      Project: `/api/${row.space_id}/projects/${row.project_id}`,
      Deployments: `/api/${row.space_id}/releases/${row.id}/deployments`,
    },
  };
}

export async function requireRelease(db: Kysely<Database>, spaceId: string, id: string): Promise<ReleaseRow> {
  const row = await getRelease(db, spaceId, id);
  if (!row) throw new NotFoundError(`The release ${id} does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return row;
}

export async function listReleaseResources(
  db: Kysely<Database>,
  spaceId: string,
  f: ListFilter & { projectId?: string; searchByVersion?: string },
) {
  const page = await listReleases(db, spaceId, f);
  return { total: page.total, items: page.rows.map(releaseResource) };
}

/** `0.0.N` with N one more than the highest such version of the project (real servers' default). */
function nextGeneratedVersion(versions: string[]): string {
  let max = 0;
  for (const v of versions) {
    const m = /^0\.0\.(\d+)$/.exec(v);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `0.0.${max + 1}`;
}

const GENERATED_VERSION_ATTEMPTS = 20;

export interface CreateReleaseInput {
  project: string;
  version?: string;
  channel?: string;
  releaseNotes?: string;
  ignoreIfAlreadyExists?: boolean;
}

/** Reads both the Executions body (`ProjectName`, `ReleaseVersion`) and the classic one (`ProjectId`, `Version`). */
export function bindReleaseBody(body: unknown): CreateReleaseInput {
  const b = new BodyBinder(body);
  const project = b.string('ProjectName') ?? b.string('ProjectId') ?? b.string('ProjectIdOrName');
  if (!project)
    throw new UsageError('Say which project the release is for: ProjectName.', { code: 'REQUEST_INVALID' });
  return {
    project,
    version: b.string('ReleaseVersion') ?? b.string('Version'),
    channel: b.string('ChannelName') ?? b.string('ChannelId'),
    releaseNotes: b.string('ReleaseNotes'),
    ignoreIfAlreadyExists: b.bool('IgnoreIfAlreadyExists'),
  };
}

/**
 * A release is an immutable snapshot: the deployment process (sealed sensitive properties
 * included) and the project variables (sensitive values stay envelopes) are copied into its row.
 */
export async function createRelease(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  input: CreateReleaseInput,
) {
  // Resolved before the transaction so that its first statement can be the project's row lock: a
  // REPEATABLE READ snapshot (MySQL) then starts after the releases that were queued ahead of it.
  const projectId = (await resolveProject(db, spaceId, input.project)).id;
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(async (tx) => {
        await lockProjectRow(tx, projectId);
        return createReleaseTx(tx, actor, spaceId, input);
      });
    } catch (err) {
      // Generated versions are allocated under the project's row lock, so a
      // collision is left only against a writer that did not take it: the loser takes the next number.
      if (!input.version && isUniqueViolation(err) && attempt < GENERATED_VERSION_ATTEMPTS) continue;
      if (isUniqueViolation(err) && input.version)
        throw new ConflictError(`The release version ${input.version} already exists.`, {
          code: 'RELEASE_VERSION_TAKEN',
        });
      if (isUniqueViolation(err))
        throw new ConflictError(
          `No release version could be generated for ${input.project}: other releases took each one (${GENERATED_VERSION_ATTEMPTS} tries). Try again, or give the version.`,
          { code: 'RELEASE_VERSION_CONTENDED' },
        );
      throw err;
    }
  }
}

async function createReleaseTx(
  tx: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  input: CreateReleaseInput,
) {
  const project = await resolveProject(tx, spaceId, input.project);
  const channels = await listProjectChannels(tx, project.id);
  const channel = input.channel
    ? channels.find((c) => c.id === input.channel || c.name.toLowerCase() === input.channel!.toLowerCase())
    : undefined;
  if (input.channel && !channel)
    throw new NotFoundError(`The channel "${input.channel}" does not exist.`, { code: 'NOT_FOUND' });
  const version = input.version ?? nextGeneratedVersion(await listReleaseVersions(tx, project.id));
  const existing = await findReleaseByVersion(tx, project.id, version);
  if (existing) {
    if (input.ignoreIfAlreadyExists) return { release: existing, created: false };
    throw new ConflictError(`Release ${version} of project ${project.name} already exists.`, {
      code: 'RELEASE_VERSION_TAKEN',
    });
  }
  const id = await nextId(tx, 'Releases');
  const { row: processRow, doc } = await loadProcess(tx, project.id);
  const snap = randomBytes(4).toString('hex');
  const row = {
    id,
    space_id: spaceId,
    project_id: project.id,
    channel_id: channel?.id ?? (await defaultChannelId(tx, project.id)),
    version,
    release_notes: input.releaseNotes ?? '',
    assembled: nowIso(),
    process_snapshot_json: JSON.stringify({
      Id: `${processRow.id}-s-${processRow.version}-${snap}`,
      Version: processRow.version,
      Steps: doc.Steps,
    }),
    variables_snapshot_json: JSON.stringify({
      Id: `variableset-${project.id}-s-${snap}`,
      Variables: await snapshotVariables(tx, project.id),
    }),
  };
  await insertRelease(tx, row);
  await writeEvent(tx, {
    category: 'Created',
    message: `Release ${version} of project ${project.name} was created.`,
    relatedDocumentIds: [id, project.id, row.channel_id],
    spaceId,
    ...eventActor(actor),
  });
  return { release: { ...row, change_number: 0 } as ReleaseRow, created: true };
}

export async function modifyRelease(
  db: Kysely<Database>,
  actor: Actor,
  spaceId: string,
  id: string,
  body: { Version?: string; ReleaseNotes?: string },
) {
  requireAdministrator(actor, 'modify releases');
  return db.transaction().execute(async (tx) => {
    const row = await requireRelease(tx, spaceId, id);
    const version = body.Version?.trim() || row.version;
    if (version !== row.version && (await findReleaseByVersion(tx, row.project_id, version))) {
      throw new ConflictError(`Release ${version} already exists.`, { code: 'RELEASE_VERSION_TAKEN' });
    }
    const notes = body.ReleaseNotes ?? row.release_notes;
    await updateReleaseNotes(tx, id, version, notes);
    await writeEvent(tx, {
      category: 'Modified',
      message: `Release ${version} was modified.`,
      relatedDocumentIds: [id, row.project_id],
      spaceId,
      ...eventActor(actor),
    });
    return releaseResource({ ...row, version, release_notes: notes });
  });
}

/** Deleting a release deletes its deployments too (their tasks and logs stay, as audit). */
export async function removeRelease(db: Kysely<Database>, actor: Actor, spaceId: string, id: string) {
  requireAdministrator(actor, 'delete releases');
  await db.transaction().execute(async (tx) => {
    const row = await requireRelease(tx, spaceId, id);
    await requireProject(tx, spaceId, row.project_id);
    await deleteDeploymentsOfRelease(tx, id);
    await deleteRelease(tx, id);
    await writeEvent(tx, {
      category: 'Deleted',
      message: `Release ${row.version} was deleted.`,
      relatedDocumentIds: [id, row.project_id],
      spaceId,
      ...eventActor(actor),
    });
  });
}
