import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

/** The signed-in user's API keys: create (the key is shown this once), list, revoke. */
export function ApiKeysPage() {
  const { user } = useSession();
  const id = user.Id;
  const keys = useLoad(() => ok(api.GET('/api/users/{id}/apikeys', { params: { path: { id } } })), [id]);
  const [purpose, setPurpose] = useState('');
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const k = await ok(
        api.POST('/api/users/{id}/apikeys', {
          params: { path: { id } },
          body: { Purpose: purpose || 'API key' },
        }),
      );
      setCreated(k.ApiKey ?? undefined);
      setPurpose('');
      setError(undefined);
      keys.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const revoke = async (keyId: string) => {
    try {
      await ok(api.DELETE('/api/users/{id}/apikeys/{keyId}', { params: { path: { id, keyId } } }));
      keys.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <PageHeader title="Your API keys" />
      <p>Scripts and the Octopus CLI authenticate with an API key in the X-Octopus-ApiKey header.</p>
      <form class="field-row" onSubmit={create} aria-label="New API key">
        <div>
          <label for="key-purpose">Purpose</label>
          <input
            id="key-purpose"
            value={purpose}
            onInput={(e) => setPurpose(e.currentTarget.value)}
            placeholder="e.g. build server"
          />
        </div>
        <button type="submit" class="primary">
          Create API key
        </button>
      </form>
      {created && (
        <div class="notice" role="status">
          <p>Copy the new key now: it is shown only this once.</p>
          <p class="secret-once" data-new-api-key>
            {created}
          </p>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      <ErrorBox error={error ?? keys.error} />
      {!keys.data && !keys.error && <Loading what="API keys" />}
      {keys.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">Created</th>
                <th scope="col">Revoke</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.Items.map((k) => (
                <tr key={k.Id}>
                  <td>{k.Purpose}</td>
                  <td>{formatTime(k.Created)}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => void revoke(k.Id)}
                      aria-label={`Revoke the key "${k.Purpose}"`}
                    >
                      Revoke
                    </button>
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
