import { type Clock, systemClock } from './clock.js';

/**
 * A read-through cache for answers that many callers ask for at once and that must never be older
 * than the last change this process made: an entry is served only while `version()` still returns
 * the value it had *before* the entry was loaded, and for at most `ttlMs` after the load started
 * (the bound for changes this process cannot see, such as another node's writes).
 *
 * Callers that miss at the same time share one load. A load that fails is not kept, so a failure
 * is never "warm". Entries are evicted oldest first beyond `maxEntries` or `maxWeight`.
 */
export interface VersionedCacheOptions<V> {
  version: () => number;
  ttlMs: number;
  maxEntries: number;
  /** Bound on the summed `weigh(value)` of the entries (e.g. bytes of cached bodies). */
  maxWeight?: number;
  weigh?: (value: V) => number;
  /** Where `ttlMs` is measured (tests move a manual clock on); the real clock by default. */
  clock?: Clock;
}

interface Entry<V> {
  version: number;
  until: number;
  value: Promise<V>;
  weight: number;
}

export class VersionedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private weight = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: VersionedCacheOptions<V>) {
    this.clock = opts.clock ?? systemClock;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const version = this.opts.version();
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.version === version && hit.until > now) return hit.value;
    if (hit) this.remove(key, hit);
    const entry: Entry<V> = { version, until: now + this.opts.ttlMs, value: load(), weight: 0 };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => {
        if (this.entries.get(key) !== entry) return;
        entry.weight = this.opts.weigh?.(v) ?? 0;
        this.weight += entry.weight;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === entry) this.remove(key, entry);
      },
    );
    this.evict();
    return entry.value;
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  private evict(): void {
    const maxWeight = this.opts.maxWeight ?? Number.POSITIVE_INFINITY;
    while (this.entries.size > this.opts.maxEntries || this.weight > maxWeight) {
      const [key, oldest] = this.entries.entries().next().value as [string, Entry<V>];
      this.remove(key, oldest);
    }
  }
}
