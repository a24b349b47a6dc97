import { api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href, navigate, queryOf } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader, StateBadge } from '../../components/ui';

const STATES = ['', 'Queued', 'Executing', 'Cancelling', 'Success', 'Failed', 'Canceled', 'TimedOut'];
const PAGE = 50;

/** Tasks newest first; the filters live in the address (shareable, kept on reload). */
export function TasksPage({ path }: { path: string }) {
  const { spaceId } = useSession();
  const q = queryOf(path);
  const f = {
    states: q.get('states') ?? '',
    project: q.get('project') ?? '',
    environment: q.get('environment') ?? '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
    skip: Number(q.get('skip') ?? 0) || 0,
  };
  const refs = useLoad(async () => {
    const [p, e] = await Promise.all([
      ok(api.GET('/api/{spaceId}/projects', { params: { path: { spaceId }, query: { take: 1000 } } })),
      ok(api.GET('/api/{spaceId}/environments', { params: { path: { spaceId }, query: { take: 1000 } } })),
    ]);
    return { projects: p.Items, environments: e.Items };
  }, [spaceId]);
  const tasks = useLoad(
    () =>
      ok(
        api.GET('/api/{spaceId}/tasks/search', {
          params: {
            path: { spaceId },
            query: {
              skip: f.skip,
              take: PAGE,
              ...(f.states ? { states: f.states } : {}),
              ...(f.project ? { project: f.project } : {}),
              ...(f.environment ? { environment: f.environment } : {}),
              ...(f.from ? { fromQueueDate: f.from } : {}),
              ...(f.to ? { toQueueDate: new Date(Date.parse(f.to) + 86_400_000).toISOString() } : {}),
            },
          },
        }),
      ),
    [spaceId, path],
  );
  useChanges(['server_tasks'], tasks.reload);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(q);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== 'skip') next.delete('skip');
    navigate(`/${spaceId}/tasks${next.size ? `?${next}` : ''}`);
  };
  const names = new Map(
    [...(refs.data?.projects ?? []), ...(refs.data?.environments ?? [])].map((x) => [x.Id, x.Name]),
  );
  return (
    <section>
      <PageHeader title="Tasks" />
      <form class="filters" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="tf-state">State</label>
          <select id="tf-state" value={f.states} onChange={(e) => set('states', e.currentTarget.value)}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s || 'Any'}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="tf-project">Project</label>
          <select id="tf-project" value={f.project} onChange={(e) => set('project', e.currentTarget.value)}>
            <option value="">Any</option>
            {refs.data?.projects.map((p) => (
              <option key={p.Id} value={p.Id}>
                {p.Name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="tf-env">Environment</label>
          <select
            id="tf-env"
            value={f.environment}
            onChange={(e) => set('environment', e.currentTarget.value)}
          >
            <option value="">Any</option>
            {refs.data?.environments.map((x) => (
              <option key={x.Id} value={x.Id}>
                {x.Name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="tf-from">Queued from</label>
          <input
            id="tf-from"
            type="date"
            value={f.from}
            onChange={(e) => set('from', e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="tf-to">to</label>
          <input id="tf-to" type="date" value={f.to} onChange={(e) => set('to', e.currentTarget.value)} />
        </div>
      </form>
      <ErrorBox error={tasks.error ?? refs.error} />
      {!tasks.data && !tasks.error && <Loading what="tasks" />}
      {tasks.data && (
        <>
          <p class="muted small" role="status">
            {tasks.data.TotalResults} task(s)
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">State</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {tasks.data.Items.map((t) => (
                  <tr key={t.Id}>
                    <td>
                      <a href={href(`/${spaceId}/tasks/${t.Id}`)}>{t.Description || t.Name}</a>
                      <div class="muted small">
                        {t.Id}
                        {typeof t.Arguments === 'object' && t.Arguments && 'ProjectId' in t.Arguments
                          ? ` · ${names.get(String((t.Arguments as Record<string, unknown>).ProjectId)) ?? ''}`
                          : ''}
                      </div>
                    </td>
                    <td>
                      <StateBadge state={t.State} />
                    </td>
                    <td>{formatTime(t.QueueTime)}</td>
                    <td>{t.Duration}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="form-actions">
            <button
              type="button"
              disabled={f.skip === 0}
              onClick={() => set('skip', String(Math.max(0, f.skip - PAGE)))}
            >
              Newer
            </button>
            <button
              type="button"
              disabled={f.skip + PAGE >= tasks.data.TotalResults}
              onClick={() => set('skip', String(f.skip + PAGE))}
            >
              Older
            </button>
          </div>
        </>
      )}
    </section>
  );
}
