import type { Kysely } from 'kysely';
import { type LifecycleRow, listLifecycles } from '../storage/repositories/lifecycle-repository.js';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { listProjectGroups, type ProjectGroupRow } from '../storage/repositories/project-group-repository.js';
import type { Database } from '../storage/schema/database-types.js';

export function projectGroupResource(row: ProjectGroupRow) {
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Name: row.name,
    Description: row.description,
    EnvironmentIds: [] as string[],
    RetentionPolicyId: null,
    Links: { Self: `/api/${row.space_id}/projectgroups/${row.id}` },
  };
}

export function lifecycleResource(row: LifecycleRow) {
  const extra = JSON.parse(row.json || '{}') as { Phases?: unknown[] };
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Name: row.name,
    Description: row.description,
    Phases: extra.Phases ?? [],
    ReleaseRetentionPolicy: { Unit: 'Days', QuantityToKeep: 0, ShouldKeepForever: true },
    TentacleRetentionPolicy: { Unit: 'Days', QuantityToKeep: 0, ShouldKeepForever: true },
    Links: { Self: `/api/${row.space_id}/lifecycles/${row.id}` },
  };
}

export async function listProjectGroupResources(db: Kysely<Database>, spaceId: string, f: ListFilter) {
  const page = await listProjectGroups(db, spaceId, f);
  return { total: page.total, items: page.rows.map(projectGroupResource) };
}

export async function listLifecycleResources(db: Kysely<Database>, spaceId: string, f: ListFilter) {
  const page = await listLifecycles(db, spaceId, f);
  return { total: page.total, items: page.rows.map(lifecycleResource) };
}
