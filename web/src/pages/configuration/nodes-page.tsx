import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { useLoad } from '../../app/use-load';
import { age, formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

export function NodesPage() {
  const nodes = useLoad(() => ok(api.GET('/api/octopusservernodes')), []);
  useChanges(['server_nodes', 'instance_metadata', 'server_tasks'], nodes.reload);
  const [error, setError] = useState<ApiError>();
  const drain = async (id: string, on: boolean) => {
    try {
      await ok(
        api.PUT('/api/octopusservernodes/{id}', {
          params: { path: { id } },
          body: { IsInMaintenanceMode: on },
        }),
      );
      setError(undefined);
      nodes.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <PageHeader title="Server nodes" />
      <p>
        A draining node takes no new tasks; the tasks it runs finish. Its load balancer ping answers 418, so
        traffic moves to the other nodes.
      </p>
      <ErrorBox error={error ?? nodes.error} />
      {!nodes.data && !nodes.error && <Loading what="nodes" />}
      {nodes.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Running tasks</th>
                <th scope="col">State</th>
                <th scope="col">Drain</th>
              </tr>
            </thead>
            <tbody>
              {nodes.data.Items.map((n) => (
                <tr key={n.Id} data-node={n.Name}>
                  <th scope="row">
                    {n.Name}
                    <div class="muted small">
                      {n.Host} · {n.Version} · {n.Rank}
                    </div>
                  </th>
                  <td title={formatTime(n.LastSeen)}>{age(n.LastSeen)}</td>
                  <td>
                    {n.RunningTasks} of {n.MaxConcurrentTasks}
                  </td>
                  <td>{n.IsOffline ? 'Offline' : n.IsInMaintenanceMode ? 'Draining' : 'Taking tasks'}</td>
                  <td>
                    <button type="button" onClick={() => void drain(n.Id, !n.IsInMaintenanceMode)}>
                      {n.IsInMaintenanceMode ? 'Stop draining' : 'Drain'}
                    </button>
                    {n.DrainModifiedBy && (
                      <div class="muted small">
                        by {n.DrainModifiedBy} {formatTime(n.DrainModifiedOn)}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
