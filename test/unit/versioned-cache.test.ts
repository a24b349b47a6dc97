import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VersionedCache } from '../../src/lib/versioned-cache.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** A load the test resolves (or fails) by hand, counting how often the cache started one. */
function manualLoads<V>() {
  const started: { resolve: (v: V) => void; reject: (e: Error) => void }[] = [];
  const load = () =>
    new Promise<V>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { started, load };
}

describe('VersionedCache', () => {
  it('shares one load between callers that miss at the same time, then serves the value', async () => {
    const cache = new VersionedCache<string>({ version: () => 0, ttlMs: 60_000, maxEntries: 10 });
    const { started, load } = manualLoads<string>();
    const a = cache.get('k', load);
    const b = cache.get('k', load);
    assert.equal(started.length, 1);
    started[0]!.resolve('v1');
    assert.deepEqual(await Promise.all([a, b]), ['v1', 'v1']);
    assert.equal(await cache.get('k', load), 'v1');
    assert.equal(started.length, 1);
  });

  it('reloads once the version moves, and a caller after the move never joins an older load', async () => {
    let version = 0;
    const cache = new VersionedCache<string>({ version: () => version, ttlMs: 60_000, maxEntries: 10 });
    const { started, load } = manualLoads<string>();
    const before = cache.get('k', load);
    version++; // a write committed while the first load was still reading
    const after = cache.get('k', load);
    assert.equal(started.length, 2, 'the caller after the write starts its own load');
    started[0]!.resolve('old');
    started[1]!.resolve('new');
    assert.equal(await before, 'old');
    assert.equal(await after, 'new');
    assert.equal(await cache.get('k', load), 'new');
    version++;
    const again = cache.get('k', load);
    assert.equal(started.length, 3);
    started[2]!.resolve('newer');
    assert.equal(await again, 'newer');
  });

  it('does not keep a failed load', async () => {
    const cache = new VersionedCache<string>({ version: () => 0, ttlMs: 60_000, maxEntries: 10 });
    const { started, load } = manualLoads<string>();
    const failing = cache.get('k', load);
    started[0]!.reject(new Error('unauthorized'));
    await assert.rejects(failing, /unauthorized/);
    const retry = cache.get('k', load);
    assert.equal(started.length, 2);
    started[1]!.resolve('ok');
    assert.equal(await retry, 'ok');
  });

  it('does not serve an entry past its lifetime, counted from when its load started', async () => {
    const clock = new ManualClock();
    const cache = new VersionedCache<string>({ version: () => 0, ttlMs: 1_000, maxEntries: 10, clock });
    const { started, load } = manualLoads<string>();
    const first = cache.get('k', load);
    clock.advance(400); // the load takes a while
    started[0]!.resolve('v1');
    assert.equal(await first, 'v1');
    clock.advance(599);
    assert.equal(await cache.get('k', load), 'v1', 'served until its lifetime has passed');
    assert.equal(started.length, 1);
    clock.advance(1);
    const second = cache.get('k', load);
    assert.equal(started.length, 2, 'a load started 1000 ms ago is not served');
    started[1]!.resolve('v2');
    assert.equal(await second, 'v2');
  });

  it('keeps answers apart by key and evicts the oldest beyond its bounds', async () => {
    const cache = new VersionedCache<string>({
      version: () => 0,
      ttlMs: 60_000,
      maxEntries: 2,
      maxWeight: 10,
      weigh: (v) => v.length,
    });
    assert.equal(await cache.get('a', async () => 'aaaa'), 'aaaa');
    assert.equal(await cache.get('b', async () => 'bbbb'), 'bbbb');
    assert.equal(await cache.get('a', async () => 'reloaded'), 'aaaa');
    await cache.get('c', async () => 'cc');
    assert.equal(cache.size, 2, 'beyond maxEntries the oldest goes');
    assert.equal(await cache.get('a', async () => 'a2'), 'a2');
    await cache.get('big', async () => 'x'.repeat(11));
    assert.equal(await cache.get('big', async () => 'small'), 'small', 'a value over maxWeight is not kept');
  });
});
