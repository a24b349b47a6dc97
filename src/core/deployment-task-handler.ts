import { RuntimeFailure } from '../lib/errors.js';
import { getDeployment } from '../storage/repositories/deployment-repository.js';
import { getEnvironment } from '../storage/repositories/environment-repository.js';
import { getProject } from '../storage/repositories/project-repository.js';
import { getReleaseById } from '../storage/repositories/release-repository.js';
import { getSpace } from '../storage/repositories/space-repository.js';
import { runScript, scriptFileName } from '../tasks/script-runner.js';
import type { ActivityStatus, TaskContext, TaskHandler } from '../tasks/task-types.js';
import { finishWorkFolder, workFolderFor } from '../tasks/work-folders.js';
import type { DeploymentDoc } from './deployment-service.js';
import { buildDeploymentVariables } from './deployment-variables.js';
import { clearProperties, type Json } from './process-normalizer.js';
import {
  SUPPORTED_ACTION_TYPES,
  SUPPORTED_SUMMARY,
  syntaxOf,
  unsupportedParts,
} from './supported-actions.js';
import type { VariableDictionary } from './variable-substitution.js';

/** Default step timeout when the action sets none: long deployments exist, endless ones should not. */
const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;

const arr = (v: unknown) => (Array.isArray(v) ? (v as Json[]) : []);

class StepFailure extends Error {}

async function loadScope(ctx: TaskContext) {
  const db = ctx.storage.db;
  const deploymentId = String(ctx.task.arguments.DeploymentId ?? '');
  const deployment = await getDeployment(db, deploymentId);
  if (!deployment)
    throw new RuntimeFailure(`The deployment ${deploymentId} of this task no longer exists.`, {
      code: 'DEPLOYMENT_GONE',
    });
  const release = await getReleaseById(db, deployment.release_id);
  const project = await getProject(db, deployment.space_id, deployment.project_id);
  const environment = await getEnvironment(db, deployment.space_id, deployment.environment_id);
  const space = await getSpace(db, deployment.space_id);
  if (!release || !project || !environment) {
    throw new RuntimeFailure(`The release, project or environment of ${deploymentId} no longer exists.`, {
      code: 'DEPLOYMENT_GONE',
    });
  }
  return { deployment, release, project, environment, spaceName: space?.name ?? '', taskId: ctx.task.id };
}

function timeoutOf(props: Record<string, string>): number {
  const minutes = Number(props['Octopus.Action.ExecutionTimeout.Minutes']);
  if (Number.isFinite(minutes) && minutes > 0) return minutes * 60_000;
  const seconds = Number(props['Cuttle.Action.TimeoutSeconds']);
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return DEFAULT_TIMEOUT_MS;
}

/** Runs one Octopus.Script action; a non-zero exit code is a StepFailure, cancellation and timeouts propagate. */
async function runAction(ctx: TaskContext, action: Json, activityId: string, dict: VariableDictionary) {
  const type = String(action.ActionType ?? '');
  const { values, secrets } =
    type === SUPPORTED_ACTION_TYPES[0]
      ? clearProperties(ctx.key, action.Properties)
      : { values: {}, secrets: [] };
  ctx.log.mask(secrets);
  // saved processes were checked already; this guards processes stored before that check existed
  const problems = unsupportedParts(type, values);
  if (problems.length)
    throw new StepFailure(`Cuttle cannot run this action: ${problems.join(' ')} ${SUPPORTED_SUMMARY}`);
  const syntax = syntaxOf(values);
  const body = dict.evaluate(values['Octopus.Action.Script.ScriptBody'] ?? '');
  ctx.log.info(`Executing ${syntax} script on the built-in worker (node ${ctx.nodeId})`, activityId);
  const workDir = workFolderFor(ctx.home, ctx.task.id, activityId);
  let failed = true;
  try {
    const { exitCode } = await runScript({
      syntax,
      body,
      workDir,
      env: {},
      signal: ctx.signal,
      timeoutMs: timeoutOf(values),
      onLine: (stream, line) =>
        stream === 'stdout' ? ctx.log.info(line, activityId) : ctx.log.error(line, activityId),
    });
    if (exitCode !== 0) throw new StepFailure(`The script returned exit code ${exitCode}.`);
    failed = false;
  } finally {
    const kept = finishWorkFolder(workDir, {
      failed,
      keep: !!ctx.keepWorkFolders,
      maskedScript: ctx.log.maskText(body),
      scriptName: scriptFileName(syntax),
    });
    if (kept === 'kept') ctx.log.warn(`The work folder ${workDir} was kept (keepWorkFolders).`, activityId);
  }
}

function shouldRun(step: Json, failed: boolean, dict: VariableDictionary): boolean {
  const cond = String(step.Condition ?? 'Success');
  if (cond === 'Always') return true;
  if (cond === 'Failure') return failed;
  if (cond === 'Variable') {
    const props = (step.Properties ?? {}) as Record<string, unknown>;
    const expr = String(props['Octopus.Step.ConditionVariableExpression'] ?? '');
    const v = dict.evaluate(expr).trim().toLowerCase();
    return v !== '' && v !== 'false' && v !== '0' && !v.includes('#{');
  }
  return !failed;
}

function skipped(action: Json, environmentId: string, skip: string[]): string | undefined {
  if (action.IsDisabled === true) return 'it is disabled';
  const envs = arr(action.Environments) as unknown as string[];
  if (envs.length && !envs.includes(environmentId)) return 'it does not run in this environment';
  const excluded = arr(action.ExcludedEnvironments) as unknown as string[];
  if (excluded.includes(environmentId)) return 'this environment is excluded';
  if (skip.includes(String(action.Id)) || skip.includes(String(action.Name)))
    return 'the deployment skips it';
  return undefined;
}

/**
 * The "Deploy" task: runs the release's process snapshot step by step on the built-in worker.
 * Activities are task > step > action; a failed action fails its step, later steps run only
 * when their condition allows (Always / Failure), and the task fails at the end.
 */
export const deploymentTaskHandler: TaskHandler = async (ctx) => {
  const scope = await loadScope(ctx);
  const { dict, secrets } = buildDeploymentVariables(ctx.key, scope);
  ctx.log.mask(secrets);
  const doc = JSON.parse(scope.deployment.json || '{}') as DeploymentDoc;
  const steps = arr((JSON.parse(scope.release.process_snapshot_json || '{}') as { Steps?: unknown }).Steps);
  ctx.log.info(
    `Deploying ${scope.project.name} release ${scope.release.version} to ${scope.environment.name}`,
  );
  let failed = false;
  for (const [i, step] of steps.entries()) {
    const stepId = `${ctx.task.id}-step-${i + 1}`;
    const stepName = `Step ${i + 1}: ${String(step.Name ?? '')}`;
    ctx.activities.start(stepId, stepName);
    if (!shouldRun(step, failed, dict)) {
      ctx.log.info(`Skipped: the step's condition is ${String(step.Condition ?? 'Success')}.`, stepId);
      ctx.activities.finish(stepId, 'Skipped');
      continue;
    }
    let stepStatus: ActivityStatus = 'Success';
    for (const [j, action] of arr(step.Actions).entries()) {
      const actionId = `${stepId}-action-${j + 1}`;
      dict.set('Octopus.Step.Name', String(step.Name ?? ''));
      dict.set('Octopus.Action.Name', String(action.Name ?? ''));
      ctx.activities.start(actionId, String(action.Name ?? `Action ${j + 1}`), stepId);
      const why = skipped(action, scope.environment.id, doc.SkipActions ?? []);
      if (why) {
        ctx.log.info(`Skipped: ${why}.`, actionId);
        ctx.activities.finish(actionId, 'Skipped');
        continue;
      }
      try {
        await ctx.activities.persist();
        await runAction(ctx, action, actionId, dict);
        ctx.activities.finish(actionId, 'Success');
      } catch (err) {
        if (ctx.signal.aborted) {
          ctx.activities.finish(actionId, 'Canceled');
          ctx.activities.finish(stepId, 'Canceled');
          throw err;
        }
        ctx.log.error(err instanceof Error ? err.message : String(err), actionId);
        ctx.activities.finish(actionId, 'Failed');
        if (!(err instanceof StepFailure) && (err as Error)?.name === 'TimedOut') {
          ctx.activities.finish(stepId, 'Failed');
          throw err;
        }
        stepStatus = 'Failed';
        failed = true;
      }
    }
    ctx.activities.finish(stepId, stepStatus);
  }
  await ctx.log.flush();
  if (failed)
    throw new RuntimeFailure('The deployment failed because one or more steps failed.', {
      code: 'DEPLOYMENT_STEPS_FAILED',
    });
  return undefined;
};
