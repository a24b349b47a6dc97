import net from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { WakeupHandlers, WakeupListener, Wakeups } from '../wakeups.js';
import { postgresCapabilities } from './postgres-capabilities.js';
import { asPostgres, pgConfig } from './postgres-config.js';
import { postgresConnectionError } from './postgres-connection-errors.js';

/** The listener's application_name, which tells its session apart in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'cuttle-wakeups';
/** The first retry after a drop; each failure in a row doubles it, up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 10_000;
/**
 * How often the listener asks its connection a `SELECT 1`. A connection that died without a word
 * (a cut network, a paused server) delivers nothing and raises nothing: only a query finds out.
 */
const PING_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;

/**
 * LISTEN/NOTIFY. A notification is `SELECT pg_notify(...)` on the caller's handle: PostgreSQL
 * sends it when the transaction commits (at once outside one), never when it rolls back, and only
 * to listeners of the same database. The statement is a SELECT, so the read caches do not count it
 * as a write (write-watching-dialect.ts).
 */
export const postgresWakeups: Wakeups = {
  async notify(db, channel, payload) {
    await sql`SELECT pg_notify(${channel}, ${payload})`.execute(db);
  },
  async listen(target, channel, handlers) {
    const listener = new PgListener(asPostgres(target), channel, handlers);
    await listener.connect();
    return listener;
  },
};

/** One pg client of its own that LISTENs, and connects again with backoff when it drops. */
class PgListener implements WakeupListener {
  private client: pg.Client | undefined;
  private closed = false;
  private tries = 0;
  /** Failed tries since the listener last listened: the backoff's exponent. */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: ServerTarget,
    private readonly channel: string,
    private readonly handlers: WakeupHandlers,
  ) {}

  async connect(): Promise<void> {
    if (this.closed) return;
    const first = this.tries++ === 0;
    const client = new pg.Client({
      ...pgConfig(this.target),
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
      query_timeout: PING_TIMEOUT_MS,
      // Listening alone does not keep a process alive, as an executor's timers do not.
      stream: () => new net.Socket().unref(),
    });
    this.client = client;
    // Every way the connection can go ends in one drop, once: a later 'error' or 'end' of this
    // client (closing it below raises both) lands here and is ignored.
    let dropped = false;
    const drop = (err: unknown) => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      clearInterval(this.pingTimer);
      client.end().catch(() => {});
      this.retry(err);
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('The server closed the connection.')));
    client.on('notification', (m) => {
      if (!this.closed && !dropped && m.channel === this.channel) this.handlers.notified(m.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${postgresCapabilities.quoteIdentifier(this.channel)}`);
    } catch (err) {
      drop(err);
      return;
    }
    if (this.closed || dropped) {
      client.end().catch(() => {});
      return;
    }
    this.failures = 0;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      client.query('SELECT 1').catch(drop);
    }, PING_MS);
    this.pingTimer.unref();
    this.handlers.listening(!first);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }

  private retry(err: unknown): void {
    if (this.closed) return;
    const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failures++);
    // Half to all of the backoff: nodes that lost the same server do not all come back at once.
    const retryInMs = Math.round(backoff * (0.5 + Math.random() / 2));
    // Classified as a connection failure is: the driver's text only with the password cut out.
    this.handlers.lost(postgresConnectionError(err, this.target), retryInMs);
    this.retryTimer = setTimeout(() => {
      this.connect().catch(() => {});
    }, retryInMs);
    this.retryTimer.unref();
  }
}
