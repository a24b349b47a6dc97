import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { ErrorBox, PageHeader } from '../../components/ui';

/** Shows the master key only after the administrator enters the password again; it is never kept in the page. */
export function MasterKeyPage() {
  const [password, setPassword] = useState('');
  const [key, setKey] = useState<{ MasterKey: string; KeyId: string }>();
  const [error, setError] = useState<ApiError>();
  const reveal = async (e: Event) => {
    e.preventDefault();
    try {
      setKey(await ok(api.POST('/api/admin/masterkey/reveal', { body: { Password: password } })));
      setError(undefined);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setPassword('');
    }
  };
  return (
    <section>
      <PageHeader title="Master key" />
      <p>
        The master key encrypts every sensitive value and the database password. Without it a backup cannot be
        restored. Keep a copy apart from the backups, for example in a password manager. Showing it is
        recorded in the audit log.
      </p>
      {!key ? (
        <form onSubmit={reveal} aria-label="Show the master key">
          <label for="mk-password">Your password</label>
          <input
            id="mk-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <ErrorBox error={error} />
          <div class="form-actions">
            <button type="submit" class="primary">
              Show the master key
            </button>
          </div>
        </form>
      ) : (
        <div class="notice">
          <p>Master key (key id {key.KeyId}):</p>
          <p class="secret-once" data-master-key>
            {key.MasterKey}
          </p>
          <button type="button" onClick={() => setKey(undefined)}>
            Hide
          </button>
        </div>
      )}
    </section>
  );
}
