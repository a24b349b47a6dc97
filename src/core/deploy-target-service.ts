import type { Kysely } from 'kysely';
import { NotFoundError } from '../lib/errors.js';
import { dashboardEnvironments } from '../storage/repositories/dashboard-repository.js';
import { getLifecycle } from '../storage/repositories/lifecycle-repository.js';
import { getRelease } from '../storage/repositories/release-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { requireProject } from './project-service.js';

interface Phase {
  AutomaticDeploymentTargets?: string[];
  OptionalDeploymentTargets?: string[];
}

/**
 * Where a release may be deployed ("Deploy to ..."): the environments the project's lifecycle
 * names in its phases, in the space's environment order; a lifecycle without phases (the
 * default one) allows every environment, as Octopus's default lifecycle does.
 */
export async function deployTargets(db: Kysely<Database>, spaceId: string, releaseId: string) {
  const release = await getRelease(db, spaceId, releaseId);
  if (!release)
    throw new NotFoundError(`The release ${releaseId} does not exist in ${spaceId}.`, {
      code: 'RELEASE_NOT_FOUND',
    });
  const project = await requireProject(db, spaceId, release.project_id);
  const lifecycle = await getLifecycle(db, spaceId, project.lifecycle_id);
  const phases = ((JSON.parse(lifecycle?.json || '{}') as { Phases?: Phase[] }).Phases ?? []).filter(
    (p) => p && typeof p === 'object',
  );
  const envs = await dashboardEnvironments(db, spaceId);
  const named = new Set(
    phases.flatMap((p) => [...(p.AutomaticDeploymentTargets ?? []), ...(p.OptionalDeploymentTargets ?? [])]),
  );
  const allowed = phases.length === 0 || named.size === 0 ? envs : envs.filter((e) => named.has(e.id));
  return {
    ReleaseId: release.id,
    ProjectId: project.id,
    LifecycleId: project.lifecycle_id,
    PromoteTo: allowed.map((e) => ({ Id: e.id, Name: e.name })),
    IsDeploymentProcessModified: false,
    IsVariableSetModified: false,
  };
}
