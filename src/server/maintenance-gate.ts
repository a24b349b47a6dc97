import type { Kysely } from 'kysely';
import { getMaintenance, type MaintenanceState } from '../core/maintenance-service.js';
import { type Clock, systemClock } from '../lib/clock.js';
import type { Database } from '../storage/schema/database-types.js';

/**
 * Maintenance mode can be switched by the CLI or another node, straight in the database, so the
 * server re-reads it at most MAINTENANCE_CACHE_MS after its last read: a change is noticed within
 * a second while a burst of requests costs one query per half second, not one each.
 */
export const MAINTENANCE_CACHE_MS = 500;

export class MaintenanceCache {
  private value: MaintenanceState | undefined;
  private readAt = 0;
  private pending: Promise<MaintenanceState> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
  ) {}

  async get(): Promise<MaintenanceState> {
    if (this.value && this.clock.now() - this.readAt < MAINTENANCE_CACHE_MS) return this.value;
    this.pending ??= getMaintenance(this.db)
      .then((v) => {
        this.value = v;
        this.readAt = this.clock.now();
        return v;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  set(value: MaintenanceState): void {
    this.value = value;
    this.readAt = this.clock.now();
  }
}

export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
