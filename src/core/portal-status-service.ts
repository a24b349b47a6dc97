import type { Kysely } from 'kysely';
import { CUTTLE_VERSION } from '../lib/version.js';
import { getMetaJson, META } from '../storage/repositories/metadata-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import type { MaintenanceState } from './maintenance-service.js';

/** What every portal page shows in its banners: maintenance mode, test replica, this node draining. */
export interface PortalStatus {
  IsInMaintenanceMode: boolean;
  MaintenanceModifiedBy: string | null;
  MaintenanceModifiedOn: string | null;
  IsTestReplica: boolean;
  ReplicaCreated: string | null;
  NodeName: string;
  NodeIsDraining: boolean;
  CuttleVersion: string;
}

export async function portalStatus(
  db: Kysely<Database>,
  maintenance: MaintenanceState,
  node: { name: string; draining: boolean },
): Promise<PortalStatus> {
  const replica = await getMetaJson<{ created?: string }>(db, META.replica);
  return {
    IsInMaintenanceMode: maintenance.IsInMaintenanceMode,
    MaintenanceModifiedBy: maintenance.LastModifiedBy,
    MaintenanceModifiedOn: maintenance.LastModifiedOn,
    IsTestReplica: replica !== undefined,
    ReplicaCreated: replica?.created ?? null,
    NodeName: node.name,
    NodeIsDraining: node.draining,
    CuttleVersion: CUTTLE_VERSION,
  };
}
