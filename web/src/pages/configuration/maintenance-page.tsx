import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { useLoad } from '../../app/use-load';
import { formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

/** Configuration -> Maintenance: the switch, and who switched it when (Octopus's page). */
export function MaintenancePage() {
  const m = useLoad(() => ok(api.GET('/api/maintenanceconfiguration')), []);
  useChanges(['instance_metadata'], m.reload);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const toggle = async (on: boolean) => {
    setBusy(true);
    try {
      await ok(api.PUT('/api/maintenanceconfiguration', { body: { IsInMaintenanceMode: on } }));
      setError(undefined);
      m.reload();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <PageHeader title="Maintenance mode" />
      <p>
        While maintenance mode is on, everybody can still read (task logs, the dashboard) and administrators
        keep all their rights; every other change, including deployments, is refused with the reason.
      </p>
      <ErrorBox error={m.error ?? error} />
      {!m.data && !m.error && <Loading what="maintenance mode" />}
      {m.data && (
        <>
          <dl class="facts">
            <dt>Maintenance mode</dt>
            <dd data-maintenance={m.data.IsInMaintenanceMode ? 'on' : 'off'}>
              {m.data.IsInMaintenanceMode ? 'On' : 'Off'}
            </dd>
            <dt>Last switched by</dt>
            <dd>{m.data.LastModifiedBy ?? '–'}</dd>
            <dt>Last switched at</dt>
            <dd>{formatTime(m.data.LastModifiedOn) || '–'}</dd>
          </dl>
          <div class="form-actions">
            <button
              type="button"
              class={m.data.IsInMaintenanceMode ? '' : 'danger'}
              disabled={busy}
              onClick={() => void toggle(!m.data!.IsInMaintenanceMode)}
            >
              {m.data.IsInMaintenanceMode ? 'Turn maintenance mode off' : 'Turn maintenance mode on'}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
