import type { Kysely } from 'kysely';
import { findDeploymentByTask } from '../storage/repositories/deployment-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { onTaskStateChange, registerTaskHandler, type TaskStateChange } from '../tasks/handler-registry.js';
import { DEPLOY_TASK_KIND } from './deployment-service.js';
import { deploymentTaskHandler } from './deployment-task-handler.js';
import { writeEvent } from './event-service.js';

const DEPLOY_CATEGORIES: Record<string, [string, string]> = {
  Executing: ['DeploymentStarted', 'started'],
  Success: ['DeploymentSucceeded', 'succeeded'],
  Failed: ['DeploymentFailed', 'failed'],
  TimedOut: ['DeploymentFailed', 'timed out'],
  Canceled: ['DeploymentCanceled', 'was canceled'],
};

const TASK_CATEGORIES: Record<string, string> = {
  Executing: 'TaskStarted',
  Success: 'TaskCompleted',
  Failed: 'TaskFailed',
  TimedOut: 'TaskFailed',
  Canceled: 'TaskCanceled',
};

/** Every task transition becomes an audit event; a deployment's names all its documents. */
async function writeTaskTransitionEvent(db: Kysely<Database>, change: TaskStateChange): Promise<void> {
  const { task, state } = change;
  const deployment = task.kind === DEPLOY_TASK_KIND ? await findDeploymentByTask(db, task.id) : undefined;
  if (deployment && DEPLOY_CATEGORIES[state]) {
    const [category, verb] = DEPLOY_CATEGORIES[state];
    await writeEvent(db, {
      category,
      message: `${deployment.name} ${verb}: ${task.description}.${change.errorMessage ? ` ${change.errorMessage}` : ''}`,
      relatedDocumentIds: [
        deployment.id,
        deployment.project_id,
        deployment.release_id,
        deployment.environment_id,
        task.id,
        deployment.channel_id,
      ],
      spaceId: deployment.space_id,
    });
    return;
  }
  const category = TASK_CATEGORIES[state];
  if (!category) return;
  await writeEvent(db, {
    category,
    message: `Task ${task.description || task.name} ${state === 'Executing' ? 'started' : `ended ${state}`}.`,
    relatedDocumentIds: [task.id],
    spaceId: task.spaceId,
  });
}

let registered = false;

/** Registers core's task handlers ("Deploy") and the transition-to-event listener; idempotent. */
export function registerCoreHandlers(): void {
  registerTaskHandler(DEPLOY_TASK_KIND, deploymentTaskHandler);
  if (registered) return;
  registered = true;
  onTaskStateChange((change) => writeTaskTransitionEvent(change.db, change));
}
