/**
 * Reads ahead of a consumer, so the source query for batch n+1 runs while the target loads batch n.
 * Bounded by bytes, not batches (a batch of log chunks weighs far more than one of key rows): the
 * reader pauses while `budget` bytes wait, which keeps a copy's memory flat whatever the table size.
 */
export async function* prefetch<T>(
  source: AsyncIterable<T>,
  sizeOf: (item: T) => number,
  budget: number,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: { item: T; size: number }[] = [];
  let bytes = 0;
  let finished = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const signalConsumer = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const producer = (async () => {
    try {
      while (!stopped) {
        while (bytes >= budget && queue.length > 0 && !stopped) {
          await new Promise<void>((r) => {
            wakeProducer = r;
          });
        }
        if (stopped) break;
        const next = await it.next();
        if (next.done) break;
        const size = sizeOf(next.value);
        queue.push({ item: next.value, size });
        bytes += size;
        signalConsumer();
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      signalConsumer();
    }
  })();
  try {
    for (;;) {
      const head = queue.shift();
      if (head) {
        bytes -= head.size;
        wakeProducer?.();
        wakeProducer = undefined;
        yield head.item;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((r) => {
        wakeConsumer = r;
      });
    }
  } finally {
    stopped = true;
    wakeProducer?.();
    await producer;
    await it.return?.(undefined);
  }
}
