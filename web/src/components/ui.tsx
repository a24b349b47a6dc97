import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client';

export function ErrorBox({ error, id }: { error: ApiError | Error | undefined; id?: string }) {
  if (!error) return null;
  const errors = 'errors' in error ? (error as ApiError).errors : [];
  return (
    <div class="error-box" role="alert" id={id}>
      <p>{error.message}</p>
      {errors.length > 0 && (
        <ul>
          {errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

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
