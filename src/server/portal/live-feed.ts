import type { Kysely } from 'kysely';
import { type PortalStatus, portalStatus } from '../../core/portal-status-service.js';
import type { Database } from '../../storage/schema/database-types.js';
import type { TableChanges } from '../../storage/table-changes.js';
import type { MaintenanceCache } from '../maintenance-gate.js';
import type { SseClient } from './sse.js';

/** The tables whose changes the portal's pages follow. */
const WATCHED_TABLES = [
  'server_tasks',
  'deployments',
  'releases',
  'projects',
  'environments',
  'deployment_processes',
  'variables',
  'events',
  'server_nodes',
  'users',
  'api_keys',
  'instance_metadata',
] as const;

const LOCAL_MS = 100;
const STATUS_MS = 1_000;
const REMOTE_MS = 2_000;

/**
 * One feed per server for every open portal page (GET /api/portal/events): `status` events (the
 * banners) and `changed` events naming the tables that changed, so a page reloads what it shows
 * once, instead of each cell polling. Writes through this node are seen within LOCAL_MS (the
 * table versions the read caches use); writes by other nodes or the CLI within REMOTE_MS (a
 * fingerprint of the active tasks) or STATUS_MS (maintenance mode). The timers run only while a
 * page is connected.
 */
export class LiveFeed {
  private readonly clients = new Set<SseClient>();
  private timers: NodeJS.Timeout[] = [];
  private versions = new Map<string, number>();
  private status = '';
  private remote: string | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes: TableChanges,
    private readonly maintenance: MaintenanceCache,
    private readonly node: () => { name: string; draining: boolean },
  ) {}

  async currentStatus(): Promise<PortalStatus> {
    return portalStatus(this.db, await this.maintenance.get(), this.node());
  }

  async add(client: SseClient): Promise<void> {
    this.clients.add(client);
    client.onClose(() => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stop();
    });
    client.send('status', await this.currentStatus());
    if (this.timers.length === 0) this.start();
  }

  closeAll(): void {
    for (const c of [...this.clients]) c.close();
    this.stop();
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c.send(event, data);
  }

  private start(): void {
    for (const t of WATCHED_TABLES) this.versions.set(t, this.changes.version(t));
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        Promise.resolve(fn()).catch(() => {});
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(LOCAL_MS, () => this.checkLocal());
    every(STATUS_MS, () => this.checkStatus());
    every(REMOTE_MS, () => this.checkRemote());
  }

  private stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.remote = undefined;
    this.status = '';
  }

  private checkLocal(): void {
    const changed: string[] = [];
    for (const t of WATCHED_TABLES) {
      const v = this.changes.version(t);
      if (v !== this.versions.get(t)) {
        this.versions.set(t, v);
        changed.push(t);
      }
    }
    if (changed.length) this.broadcast('changed', { Tables: changed });
  }

  private async checkStatus(): Promise<void> {
    const s = await this.currentStatus();
    const json = JSON.stringify(s);
    if (json !== this.status) {
      if (this.status) this.broadcast('status', s);
      this.status = json;
    }
  }

  /** Tasks queued, started or ended by another node change the set of active tasks. */
  private async checkRemote(): Promise<void> {
    const rows = await this.db
      .selectFrom('server_tasks')
      .select(['id', 'state', 'last_updated'])
      .where('state', 'in', ['Queued', 'Executing', 'Cancelling'])
      .execute();
    const fp = rows
      .map((r) => `${r.id}:${r.state}:${r.last_updated}`)
      .sort()
      .join(',');
    if (fp !== this.remote) {
      const first = this.remote === undefined;
      this.remote = fp;
      if (!first) this.broadcast('changed', { Tables: ['server_tasks', 'deployments'] });
    }
  }
}
