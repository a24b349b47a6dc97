import type { TypedEmitter } from '../../src/lib/typed-emitter.js';

/**
 * How tests wait: for a condition to hold or for an event to be emitted, never for time to pass.
 * The deadline only turns a hang into a failure with a name; it never makes a test pass, so it
 * is generous (a loaded two-core machine runs many test files at once).
 */
export const WAIT_DEADLINE_MS = 60_000;

export interface WaitOptions {
  /** Fail after this long (a guard against hanging, not a bound the test checks). */
  timeoutMs?: number;
  /** Between two polls of a condition. */
  intervalMs?: number;
}

const options = (o: WaitOptions | number | undefined): Required<WaitOptions> => {
  const given = typeof o === 'number' ? { timeoutMs: o } : (o ?? {});
  return { timeoutMs: given.timeoutMs ?? WAIT_DEADLINE_MS, intervalMs: given.intervalMs ?? 50 };
};

/**
 * Polls `condition` until it returns a truthy value, and resolves with that value. For effects
 * that announce nothing (a row in another process's database, a file, a log line over HTTP).
 * `what` names the wait in the failure; a function is asked then (to tell the last state seen).
 */
export async function waitFor<T>(
  what: string | (() => string),
  condition: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts?: WaitOptions | number,
): Promise<T> {
  const { timeoutMs, intervalMs } = options(opts);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Resolves with the first `name` event for which `match` holds (any, without `match`). It
 * listens from the moment it is called: call it before the action whose event it waits for.
 * Its deadline timer keeps the process alive meanwhile (an executor's own timers do not).
 */
export function nextEvent<Events extends object, K extends keyof Events>(
  what: string,
  source: TypedEmitter<Events>,
  name: K,
  match: (event: Events[K]) => boolean = () => true,
  opts?: WaitOptions | number,
): Promise<Events[K]> {
  const { timeoutMs } = options(opts);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const off = source.on(name, (event) => {
      let hit: boolean;
      try {
        hit = match(event);
      } catch (err) {
        off();
        clearTimeout(timer);
        reject(err);
        return;
      }
      if (!hit) return;
      off();
      clearTimeout(timer);
      resolve(event);
    });
  });
}

/**
 * Resolves (or rejects) as whichever of the two settles first, tagged so a test can tell which
 * won. The loser's later rejection is dropped: it must not surface as an unhandled rejection.
 */
export function first<A, B>(a: Promise<A>, b: Promise<B>): Promise<['first', A] | ['second', B]> {
  a.catch(() => {});
  b.catch(() => {});
  return Promise.race([
    a.then((v): ['first', A] => ['first', v]),
    b.then((v): ['second', B] => ['second', v]),
  ]);
}
