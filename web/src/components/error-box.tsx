import { ApiError } from '../api/client';

/**
 * The one way a page shows a failed API call: the server's message (ErrorMessage), its stable
 * code (Code, as in docs/reference/error-codes.md, what a user can search for or quote), and the
 * lines after it (Errors: the details, then the hints on what to do). Errors that are not the
 * server's (the server unreachable, a failure in the page itself) show their message alone.
 */
export function ErrorBox({ error, id }: { error: ApiError | Error | undefined; id?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  const lines = api?.errors ?? [];
  return (
    <div class="error-box" role="alert" id={id} data-error-code={api?.code}>
      <p>{error.message}</p>
      {lines.length > 0 && (
        <ul>
          {lines.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      {api?.code && (
        <p class="error-code">
          Error code <code>{api.code}</code>
          {api.status ? ` (HTTP ${api.status})` : ''}
        </p>
      )}
    </div>
  );
}
