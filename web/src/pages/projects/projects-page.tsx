import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href, navigate } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

export function ProjectsPage() {
  const { spaceId, isAdmin } = useSession();
  const list = useLoad(
    () => ok(api.GET('/api/{spaceId}/projects', { params: { path: { spaceId }, query: { take: 1000 } } })),
    [spaceId],
  );
  useChanges(['projects'], list.reload);
  const [creating, setCreating] = useState(false);
  return (
    <section>
      <PageHeader title="Projects">
        {isAdmin && !creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Add project
          </button>
        )}
      </PageHeader>
      {creating && <NewProjectForm onDone={() => setCreating(false)} />}
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="projects" />}
      {list.data && list.data.Items.length === 0 && <p>No projects yet.</p>}
      {list.data && list.data.Items.length > 0 && (
        <ul class="cards" aria-label="Projects">
          {list.data.Items.map((p) => (
            <li class="card" key={p.Id}>
              <h2>
                <a href={href(`/${spaceId}/projects/${p.Id}`)}>{p.Name}</a>
              </h2>
              <p class="muted small">{p.Description || 'No description'}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NewProjectForm({ onDone }: { onDone: () => void }) {
  const { spaceId } = useSession();
  const refs = useLoad(async () => {
    const [groups, lifecycles] = await Promise.all([
      ok(api.GET('/api/{spaceId}/projectgroups', { params: { path: { spaceId }, query: { take: 1000 } } })),
      ok(api.GET('/api/{spaceId}/lifecycles', { params: { path: { spaceId }, query: { take: 1000 } } })),
    ]);
    return { groups: groups.Items, lifecycles: lifecycles.Items };
  }, [spaceId]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [group, setGroup] = useState('');
  const [lifecycle, setLifecycle] = useState('');
  const [error, setError] = useState<ApiError>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const p = await ok(
        api.POST('/api/{spaceId}/projects', {
          params: { path: { spaceId } },
          body: {
            Name: name,
            Description: description,
            ProjectGroupId: group || refs.data?.groups[0]?.Id,
            LifecycleId: lifecycle || refs.data?.lifecycles[0]?.Id,
          },
        }),
      );
      onDone();
      navigate(`/${spaceId}/projects/${p.Id}/process`);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label="New project">
      <h2>New project</h2>
      <div class="field-row">
        <div>
          <label for="np-name">Name</label>
          <input id="np-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div>
          <label for="np-group">Project group</label>
          <select id="np-group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            {refs.data?.groups.map((g) => (
              <option key={g.Id} value={g.Id}>
                {g.Name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="np-lifecycle">Lifecycle</label>
          <select id="np-lifecycle" value={lifecycle} onChange={(e) => setLifecycle(e.currentTarget.value)}>
            {refs.data?.lifecycles.map((l) => (
              <option key={l.Id} value={l.Id}>
                {l.Name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <label for="np-desc">Description</label>
      <input id="np-desc" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <ErrorBox error={error ?? refs.error} />
      <div class="form-actions">
        <button type="submit" class="primary">
          Create project
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
