import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

export function EnvironmentsPage() {
  const { spaceId, isAdmin } = useSession();
  const list = useLoad(
    () =>
      ok(api.GET('/api/{spaceId}/environments', { params: { path: { spaceId }, query: { take: 1000 } } })),
    [spaceId],
  );
  useChanges(['environments'], list.reload);
  const [name, setName] = useState('');
  const [error, setError] = useState<ApiError>();
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(
        api.POST('/api/{spaceId}/environments', { params: { path: { spaceId } }, body: { Name: name } }),
      );
      setName('');
      setError(undefined);
      list.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <PageHeader title="Environments" />
      {isAdmin && (
        <form class="field-row" onSubmit={add} aria-label="Add environment">
          <div>
            <label for="env-name">New environment</label>
            <input id="env-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary">
            Add environment
          </button>
        </form>
      )}
      <ErrorBox error={error} />
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="environments" />}
      {list.data && (
        <ol class="plain-list cards" aria-label="Environments in deployment order">
          {list.data.Items.map((e) => (
            <li class="card" key={e.Id}>
              <h2>{e.Name}</h2>
              <p class="muted small">{e.Description || e.Id}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
