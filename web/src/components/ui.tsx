import type { ComponentChildren } from 'preact';

export { ErrorBox } from './error-box';

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      {children && <div class="page-actions">{children}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

const STATE_CLASS: Record<string, string> = {
  Success: 'state-success',
  Failed: 'state-failed',
  TimedOut: 'state-failed',
  Canceled: 'state-canceled',
  Cancelling: 'state-running',
  Executing: 'state-running',
  Queued: 'state-queued',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${STATE_CLASS[state] ?? 'state-queued'}`}>{state}</span>;
}
