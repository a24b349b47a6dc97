/** What the portal benches share: an administrator's API key, a small REST client, waiting for an idle queue. */

const KEY = `API-BENCH${'A'.repeat(26)}`;

/** `cuttle admin` arguments that give the bench its own administrator with a known API key. */
export const ADMIN_KEY_ARGS = { key: KEY, args: ['admin', '--username', 'bench-admin', '--api-key', KEY] };

export type BenchApi = ReturnType<typeof benchApi>;

/** JSON over fetch with the key in Octopus's header; a non-2xx answer throws with its body. */
export function benchApi(url: string, apiKey: string) {
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { 'X-Octopus-ApiKey': apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  return {
    get: <T>(p: string) => call<T>('GET', p),
    post: <T>(p: string, b: unknown) => call<T>('POST', p, b),
    put: <T>(p: string, b: unknown) => call<T>('PUT', p, b),
  };
}

/** Until no task is queued or executing. */
export async function waitIdle(c: BenchApi, timeoutMs = 600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const active = await c.get<{ TotalResults: number }>(
      '/api/Spaces-1/tasks/search?states=Queued,Executing,Cancelling&take=0',
    );
    if (active.TotalResults === 0) return;
    if (Date.now() > until) throw new Error(`${active.TotalResults} tasks still active`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
