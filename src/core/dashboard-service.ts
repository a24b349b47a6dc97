import type { Kysely } from 'kysely';
import {
  dashboardEnvironments,
  dashboardGroups,
  dashboardProjects,
  deploymentHeads,
  releaseVersions,
  taskStates,
} from '../storage/repositories/dashboard-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { isCompleted } from '../tasks/task-types.js';

/** Newest first: by creation time, then by the id's number (two deployments in the same millisecond). */
function newer(a: { created: string; id: string }, b: { created: string; id: string }): boolean {
  if (a.created !== b.created) return a.created > b.created;
  const n = (id: string) => Number(id.split('-').pop());
  return n(a.id) > n(b.id);
}

/**
 * Octopus's dashboard document: projects by environment, with each cell's latest deployment (its
 * release, task state and times). Read in five queries whatever the number of cells.
 */
export async function dashboard(db: Kysely<Database>, spaceId: string) {
  const [projects, environments, groups, heads] = await Promise.all([
    dashboardProjects(db, spaceId),
    dashboardEnvironments(db, spaceId),
    dashboardGroups(db, spaceId),
    deploymentHeads(db, spaceId),
  ]);
  const latest = new Map<string, (typeof heads)[number]>();
  for (const d of heads) {
    const k = `${d.project_id}/${d.environment_id}`;
    const cur = latest.get(k);
    if (!cur || newer(d, cur)) latest.set(k, d);
  }
  const cells = [...latest.values()];
  const [releases, tasks] = await Promise.all([
    releaseVersions(db, [...new Set(cells.map((c) => c.release_id))]),
    taskStates(
      db,
      cells.map((c) => c.task_id),
    ),
  ]);
  const version = new Map(releases.map((r) => [r.id, r.version]));
  const task = new Map(tasks.map((t) => [t.id, t]));
  const envIds = environments.map((e) => e.id);
  return {
    Projects: projects.map((p) => ({
      Id: p.id,
      Name: p.name,
      Slug: p.slug,
      ProjectGroupId: p.project_group_id,
      IsDisabled: toBool(p.is_disabled),
      EnvironmentIds: envIds,
    })),
    ProjectGroups: groups.map((g) => ({ Id: g.id, Name: g.name, EnvironmentIds: envIds })),
    Environments: environments.map((e) => ({ Id: e.id, Name: e.name })),
    Items: cells.map((c) => {
      const t = task.get(c.task_id);
      const state = t?.state ?? 'Queued';
      return {
        ProjectId: c.project_id,
        EnvironmentId: c.environment_id,
        ReleaseId: c.release_id,
        ReleaseVersion: version.get(c.release_id) ?? '',
        DeploymentId: c.id,
        TaskId: c.task_id,
        State: state,
        IsCompleted: isCompleted(state),
        HasWarningsOrErrors: toBool(t?.has_warnings_or_errors),
        ErrorMessage: t?.error_message ?? '',
        Created: c.created,
        QueueTime: t?.queue_time ?? c.created,
        StartTime: t?.start_time ?? null,
        CompletedTime: t?.completed_time ?? null,
        IsCurrent: true,
      };
    }),
    IsFiltered: false,
    Links: { Self: `/api/${spaceId}/dashboard` },
  };
}
