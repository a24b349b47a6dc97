import type { FastifyReply } from 'fastify';
import { type Clock, systemClock } from '../lib/clock.js';
import { VersionedCache } from '../lib/versioned-cache.js';

/**
 * How long a cached read may lag behind writes this node cannot see (other nodes, the CLI): one
 * second, the same lag a task queued on one node already has before another node's executor polls
 * it. Writes through this node are never served stale: each cache is also keyed to the versions of
 * the tables it reads (storage/table-changes.ts).
 */
export const READ_CACHE_TTL_MS = 1_000;

const MAX_BODIES = 500;
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * GET answers kept as serialized JSON, shared by every caller with the same key: task waiters poll
 * the same task list many times a second, and reading, mapping and serializing a page cost most of
 * a request. The key MUST hold everything the answer depends on, including what the caller may
 * read (`readScope`).
 */
export class JsonBodyCache {
  private readonly bodies: VersionedCache<Buffer>;

  constructor(version: () => number, clock: Clock = systemClock) {
    this.bodies = new VersionedCache<Buffer>({
      version,
      clock,
      ttlMs: READ_CACHE_TTL_MS,
      maxEntries: MAX_BODIES,
      maxWeight: MAX_BODY_BYTES,
      weigh: (body) => body.byteLength,
    });
  }

  /**
   * Answers from the cache, or builds the answer and serializes it with the route's response
   * schema. Bodies are kept as UTF-8 bytes: a string would be measured and encoded again for each
   * answer (a fifth of the cost of a cached answer when it was kept as a string).
   */
  async send(reply: FastifyReply, key: string, build: () => Promise<unknown>): Promise<FastifyReply> {
    const body = await this.bodies.get(key, async () => {
      const json = reply.serialize(await build());
      return typeof json === 'string' ? Buffer.from(json) : Buffer.from(json as ArrayBuffer);
    });
    return reply.type('application/json; charset=utf-8').send(body);
  }
}
