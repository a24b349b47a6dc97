import { useStatus } from '../app/live';
import { formatTime } from './format';

/** The banners on every page: maintenance mode, test replica, this node draining, connection lost. */
export function Banners() {
  const { status, connected } = useStatus();
  return (
    <div class="banners" aria-live="polite">
      {status?.IsInMaintenanceMode && (
        <p class="banner banner-warn" data-banner="maintenance">
          <strong>Maintenance mode is on</strong>: only administrators can make changes
          {status.MaintenanceModifiedBy ? ` (switched on by ${status.MaintenanceModifiedBy}` : ''}
          {status.MaintenanceModifiedOn
            ? ` at ${formatTime(status.MaintenanceModifiedOn)})`
            : status.MaintenanceModifiedBy
              ? ')'
              : ''}
          .
        </p>
      )}
      {status?.IsTestReplica && (
        <p class="banner banner-info" data-banner="replica">
          <strong>Test replica</strong>: this instance is a copy made for testing
          {status.ReplicaCreated ? ` on ${formatTime(status.ReplicaCreated)}` : ''}; it is not production.
        </p>
      )}
      {status?.NodeIsDraining && (
        <p class="banner banner-warn" data-banner="draining">
          <strong>This node ({status.NodeName}) is draining</strong>: it takes no new tasks; running ones
          finish.
        </p>
      )}
      {status && !connected && (
        <p class="banner banner-error" data-banner="offline">
          The connection to the server was lost; reconnecting…
        </p>
      )}
    </div>
  );
}
