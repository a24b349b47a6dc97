/** Canonical timestamps: UTC, millisecond precision, fixed width, so text order is time order. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function isoAfter(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/**
 * Where code that waits on time (cache lifetimes, a log's flush interval) reads the time and sets
 * its timers, so a test can move time on instead of waiting it out. Production code takes
 * `systemClock`; only tests pass another.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /**
   * Runs `fn` once, `ms` from now; the returned function cancels it. A pending timer MUST NOT keep
   * the process alive (a real timer is unref'd): the work it triggers is also done on close.
   */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
