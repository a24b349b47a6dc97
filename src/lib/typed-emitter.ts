/**
 * A small event emitter whose event names and payloads are checked by the compiler: `Events`
 * maps each name to its payload. Listeners run synchronously in the order they were added; a
 * listener that throws is reported to `onListenerError` and does not stop the others or the
 * emitter's owner (an observer must never break what it observes).
 */
export type Listener<T> = (event: T) => void;

export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(
    private readonly onListenerError: (err: unknown) => void = (err) =>
      process.stderr.write(`Event listener failed: ${err instanceof Error ? err.message : String(err)}\n`),
  ) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  /** Like `on`, for the next event only. */
  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (e) => {
      off();
      listener(e);
    });
    return off;
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<Events[K]>)(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}
