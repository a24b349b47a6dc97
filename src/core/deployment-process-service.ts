import type { Kysely } from 'kysely';
import type { MasterKey } from '../crypto/master-key.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import {
  getProjectDeploymentProcess,
  updateDeploymentProcess,
} from '../storage/repositories/deployment-process-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';
import { type Json, normalizeSteps, publicSteps } from './process-normalizer.js';
import { processIdOf, requireProject } from './project-service.js';

export interface ProcessDocument {
  Steps: Json[];
  LastSnapshotId?: string | null;
}

function processResource(
  spaceId: string,
  projectId: string,
  id: string,
  version: number,
  doc: ProcessDocument,
) {
  return {
    Id: id,
    SpaceId: spaceId,
    ProjectId: projectId,
    Version: version,
    Steps: publicSteps(doc.Steps),
    LastSnapshotId: doc.LastSnapshotId ?? null,
    Links: { Self: `/api/${spaceId}/projects/${projectId}/deploymentprocesses` },
  };
}

/** The stored process, sealed sensitive properties included (for release snapshots). */
export async function loadProcess(db: Kysely<Database>, projectId: string) {
  const row = await getProjectDeploymentProcess(db, projectId);
  if (!row)
    throw new NotFoundError(`The project ${projectId} has no deployment process.`, { code: 'NOT_FOUND' });
  return { row, doc: JSON.parse(row.json) as ProcessDocument };
}

export async function getProcessResource(db: Kysely<Database>, spaceId: string, projectId: string) {
  await requireProject(db, spaceId, projectId);
  const { row, doc } = await loadProcess(db, projectId);
  return processResource(spaceId, projectId, row.id, row.version, doc);
}

/**
 * Octopus also addresses a process by its own Id, `deploymentprocess-<ProjectId>`
 * (project-service.ts `processIdOf`): the project it belongs to, or a 404.
 */
export function projectIdOfProcess(spaceId: string, processId: string): string {
  const prefix = processIdOf('');
  if (!processId.startsWith(prefix) || processId.length === prefix.length) {
    throw new NotFoundError(`The deployment process ${processId} does not exist in ${spaceId}.`, {
      code: 'PROCESS_NOT_FOUND',
      hints: [`A deployment process Id is ${processIdOf('<ProjectId>')}, e.g. ${processIdOf('Projects-1')}.`],
    });
  }
  return processId.slice(prefix.length);
}

/**
 * Replaces the steps. A step with an action Cuttle cannot run is refused (400) before anything
 * is written (process-normalizer.ts `normalizeSteps`). Optimistic concurrency on `Version`: a
 * PUT carrying an older version than the stored one is refused with 409, so two editors never
 * silently overwrite each other.
 */
export async function updateProcess(
  db: Kysely<Database>,
  key: MasterKey,
  actor: Actor,
  spaceId: string,
  projectId: string,
  body: { Version?: number; Steps?: unknown },
) {
  requireAdministrator(actor, 'edit deployment processes');
  return db.transaction().execute(async (tx) => {
    const project = await requireProject(tx, spaceId, projectId);
    const { row, doc } = await loadProcess(tx, projectId);
    if (typeof body.Version === 'number' && body.Version !== row.version) {
      throw new ConflictError(
        `The deployment process was changed by someone else (version ${row.version}, yours ${body.Version}). Reload it and try again.`,
        { code: 'STALE_VERSION' },
      );
    }
    const next: ProcessDocument = { ...doc, Steps: normalizeSteps(key, body.Steps ?? [], doc.Steps) };
    if (!(await updateDeploymentProcess(tx, row.id, row.version, JSON.stringify(next)))) {
      throw new ConflictError(
        'The deployment process was changed by someone else. Reload it and try again.',
        { code: 'STALE_VERSION' },
      );
    }
    await writeEvent(tx, {
      category: 'Modified',
      message: `Deployment process of project ${project.name} was modified.`,
      relatedDocumentIds: [row.id, projectId],
      spaceId,
      ...eventActor(actor),
    });
    return processResource(spaceId, projectId, row.id, row.version + 1, next);
  });
}
