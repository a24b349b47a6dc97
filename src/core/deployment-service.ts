import type { Kysely } from 'kysely';
import { seal } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import { nowIso } from '../lib/clock.js';
import { NotFoundError, PreconditionError, UsageError } from '../lib/errors.js';
import {
  type DeploymentFilter,
  type DeploymentRow,
  getDeployment,
  insertDeployment,
  listDeployments,
} from '../storage/repositories/deployment-repository.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import {
  findReleaseByVersion,
  getRelease,
  type ReleaseRow,
} from '../storage/repositories/release-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { enqueueTask, wakeTaskExecutors } from '../tasks/task-queue.js';
import { type Actor, eventActor } from './actor.js';
import { BodyBinder } from './body-binder.js';
import { resolveEnvironment } from './environment-service.js';
import { writeEvent } from './event-service.js';
import { resolveProject } from './project-service.js';

export const DEPLOY_TASK_KIND = 'Deploy';

/** Extra deployment fields kept in deployments.json. Deployment-time variable values are sealed. */
export interface DeploymentDoc {
  Comments?: string | null;
  SealedFormValues?: Record<string, string>;
  SkipActions?: string[];
  UseGuidedFailure?: boolean;
  ForcePackageDownload?: boolean;
  DeployedByName?: string | null;
}

function deploymentResource(row: DeploymentRow) {
  const doc = JSON.parse(row.json || '{}') as DeploymentDoc;
  return {
    Id: row.id,
    SpaceId: row.space_id,
    ProjectId: row.project_id,
    ReleaseId: row.release_id,
    EnvironmentId: row.environment_id,
    ChannelId: row.channel_id,
    TaskId: row.task_id,
    TenantId: null,
    Name: row.name,
    Created: row.created,
    DeployedBy: doc.DeployedByName ?? null,
    DeployedById: row.deployed_by,
    Comments: doc.Comments ?? null,
    FormValues: {} as Record<string, string>,
    SkipActions: doc.SkipActions ?? [],
    SpecificMachineIds: [] as string[],
    ExcludedMachineIds: [] as string[],
    ForcePackageDownload: doc.ForcePackageDownload ?? false,
    ForcePackageRedeployment: false,
    UseGuidedFailure: doc.UseGuidedFailure ?? false,
    FailureEncountered: false,
    QueueTime: null,
    QueueTimeExpiry: null,
    Links: {
      Self: `/api/${row.space_id}/deployments/${row.id}`,
      Release: `/api/${row.space_id}/releases/${row.release_id}`,
      Task: `/api/${row.space_id}/tasks/${row.task_id}`,
    },
  };
}

export async function listDeploymentResources(db: Kysely<Database>, spaceId: string, f: DeploymentFilter) {
  const page = await listDeployments(db, spaceId, f);
  return { total: page.total, items: page.rows.map(deploymentResource) };
}

export async function getDeploymentResource(db: Kysely<Database>, spaceId: string, id: string) {
  const row = await getDeployment(db, id);
  if (!row || row.space_id !== spaceId)
    throw new NotFoundError(`The deployment ${id} does not exist in ${spaceId}.`, { code: 'NOT_FOUND' });
  return deploymentResource(row);
}

async function resolveRelease(tx: Kysely<Database>, spaceId: string, b: BodyBinder): Promise<ReleaseRow> {
  const releaseId = b.string('ReleaseId');
  if (releaseId) {
    const r = await getRelease(tx, spaceId, releaseId);
    if (!r)
      throw new NotFoundError(`The release ${releaseId} does not exist in ${spaceId}.`, {
        code: 'NOT_FOUND',
      });
    return r;
  }
  const projectRef = b.string('ProjectName') ?? b.string('ProjectId') ?? b.string('ProjectIdOrName');
  const version = b.string('ReleaseVersion');
  if (!projectRef || !version)
    throw new UsageError('Say what to deploy: ProjectName and ReleaseVersion.', { code: 'REQUEST_INVALID' });
  const project = await resolveProject(tx, spaceId, projectRef);
  const r = await findReleaseByVersion(tx, project.id, version);
  if (!r)
    throw new NotFoundError(`Release ${version} of project ${project.name} does not exist.`, {
      code: 'NOT_FOUND',
    });
  return r;
}

export interface DeploymentServerTask {
  DeploymentId: string;
  ServerTaskId: string;
}

/**
 * Queues one deployment and one server task per environment, all in one transaction: either
 * every environment is queued or none is. Accepts the Executions body
 * (`ProjectName`, `ReleaseVersion`, `EnvironmentNames`) and the classic one (`ReleaseId`, `EnvironmentId`).
 */
export async function createDeployments(
  db: Kysely<Database>,
  key: MasterKey,
  actor: Actor,
  spaceId: string,
  body: unknown,
): Promise<DeploymentServerTask[]> {
  const b = new BodyBinder(body);
  const envRefs = [...b.strings('EnvironmentNames'), ...b.strings('EnvironmentIds')];
  const single = b.string('EnvironmentName') ?? b.string('EnvironmentId');
  if (single) envRefs.push(single);
  if (!envRefs.length)
    throw new UsageError('Say where to deploy: EnvironmentNames.', { code: 'REQUEST_INVALID' });
  const formValues = { ...b.record('FormValues'), ...b.record('Variables') };
  const result = await db.transaction().execute(async (tx) => {
    const release = await resolveRelease(tx, spaceId, b);
    const project = await resolveProject(tx, spaceId, release.project_id);
    if (toBool(project.is_disabled))
      throw new PreconditionError(`The project ${project.name} is disabled.`, { code: 'PROJECT_DISABLED' });
    const envs = [];
    for (const ref of envRefs) envs.push(await resolveEnvironment(tx, spaceId, ref));
    const out: DeploymentServerTask[] = [];
    for (const env of [...new Map(envs.map((e) => [e.id, e])).values()]) {
      const id = await nextId(tx, 'Deployments');
      const name = `Deploy to ${env.name}`;
      const taskId = await enqueueTask(tx, {
        kind: DEPLOY_TASK_KIND,
        spaceId,
        name: DEPLOY_TASK_KIND,
        description: `Deploy ${project.name} release ${release.version} to ${env.name}`,
        arguments: { DeploymentId: id, ProjectId: project.id, ReleaseId: release.id, EnvironmentId: env.id },
      });
      const doc: DeploymentDoc = {
        Comments: b.string('Comments') ?? null,
        SealedFormValues: Object.fromEntries(Object.entries(formValues).map(([k, v]) => [k, seal(key, v)])),
        SkipActions: [...b.strings('SkipActions'), ...b.strings('SkipStepNames')],
        UseGuidedFailure: b.bool('UseGuidedFailure'),
        ForcePackageDownload: b.bool('ForcePackageDownload'),
        DeployedByName: actor.username,
      };
      await insertDeployment(tx, {
        id,
        space_id: spaceId,
        project_id: project.id,
        release_id: release.id,
        environment_id: env.id,
        channel_id: release.channel_id,
        task_id: taskId,
        name,
        created: nowIso(),
        deployed_by: actor.userId,
        json: JSON.stringify(doc),
      });
      await writeEvent(tx, {
        category: 'DeploymentQueued',
        message: `Deploy to ${env.name} queued for ${project.name} release ${release.version}.`,
        relatedDocumentIds: [id, project.id, release.id, env.id, taskId, release.channel_id],
        spaceId,
        ...eventActor(actor),
      });
      out.push({ DeploymentId: id, ServerTaskId: taskId });
    }
    return out;
  });
  // The enqueue ran inside the transaction, so wake this node's executor now that it committed.
  wakeTaskExecutors();
  return result;
}
