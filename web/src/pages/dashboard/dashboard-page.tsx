import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Answer, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { age } from '../../components/format';
import { ErrorBox, Loading, PageHeader, StateBadge } from '../../components/ui';

type Dashboard = Answer<'/api/{spaceId}/dashboard', 'get'>;
type Item = Dashboard['Items'][number];

/** Re-renders every 30 s so the ages stay true without asking the server anything. */
function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function DashboardPage() {
  const { spaceId } = useSession();
  const d = useLoad(
    () => ok(api.GET('/api/{spaceId}/dashboard', { params: { path: { spaceId } } })),
    [spaceId],
  );
  useChanges(['server_tasks', 'deployments', 'releases', 'projects', 'environments'], d.reload);
  const now = useNow();
  // For bench/portal-bench.ts: when the dashboard first showed its data (Performance API).
  useEffect(() => {
    if (d.data && performance.getEntriesByName('cuttle:dashboard-ready').length === 0)
      performance.mark('cuttle:dashboard-ready');
  }, [d.data]);
  const cells = useMemo(() => {
    const m = new Map<string, Item>();
    for (const i of d.data?.Items ?? []) m.set(`${i.ProjectId}/${i.EnvironmentId}`, i);
    return m;
  }, [d.data]);
  return (
    <section aria-labelledby="dash-title">
      <PageHeader title="Dashboard" />
      <h2 id="dash-title" class="visually-hidden">
        Projects by environment
      </h2>
      <ErrorBox error={d.error} />
      {!d.data && !d.error && <Loading what="the dashboard" />}
      {d.data && d.data.Projects.length === 0 && (
        <p>
          No projects yet. <a href={href(`/${spaceId}/projects`)}>Create a project</a>.
        </p>
      )}
      {d.data && d.data.Projects.length > 0 && (
        <section class="table-wrap dashboard" tabIndex={0} aria-label="Dashboard table, scrolls sideways">
          <table>
            <thead>
              <tr>
                <th scope="col">Project</th>
                {d.data.Environments.map((e) => (
                  <th scope="col" key={e.Id}>
                    {e.Name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.data.Projects.map((p) => (
                <tr key={p.Id}>
                  <th scope="row">
                    <a href={href(`/${spaceId}/projects/${p.Id}`)}>{p.Name}</a>
                  </th>
                  {d.data!.Environments.map((e) => {
                    const c = cells.get(`${p.Id}/${e.Id}`);
                    return (
                      <td key={e.Id} data-cell={`${p.Name}/${e.Name}`}>
                        {c ? (
                          <a class="cell" href={href(`/${spaceId}/tasks/${c.TaskId}`)}>
                            <span class="cell-version">{c.ReleaseVersion}</span>
                            <StateBadge state={c.State} />
                            <span class="cell-age muted small">
                              {age(c.CompletedTime ?? c.StartTime ?? c.QueueTime, now)}
                            </span>
                          </a>
                        ) : (
                          <span class="muted small">–</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}
