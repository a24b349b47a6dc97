import { api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href, navigate, queryOf } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

const CATEGORIES = [
  '',
  'Created',
  'Modified',
  'Deleted',
  'DeploymentQueued',
  'DeploymentSucceeded',
  'DeploymentFailed',
  'BackupSucceeded',
  'LoginSucceeded',
  'LoginFailed',
  'MasterKeyShown',
];

/** Where a document id leads in the portal (the link from an event to its document). */
function documentLink(id: string, spaceId: string): string | undefined {
  if (id.startsWith('ServerTasks-')) return `/${spaceId}/tasks/${id}`;
  if (id.startsWith('Projects-')) return `/${spaceId}/projects/${id}`;
  if (id.startsWith('Environments-')) return `/${spaceId}/environments`;
  if (id.startsWith('Users-')) return '/configuration/users';
  if (id.startsWith('OctopusServerNodes') || id.startsWith('node')) return '/configuration/nodes';
  return undefined;
}

export function AuditPage({ path }: { path: string }) {
  const { spaceId } = useSession();
  const q = queryOf(path);
  const f = {
    category: q.get('category') ?? '',
    user: q.get('user') ?? '',
    document: q.get('document') ?? '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
  };
  const events = useLoad(
    () =>
      ok(
        api.GET('/api/events', {
          params: {
            query: {
              take: 200,
              ...(f.category ? { eventCategories: f.category } : {}),
              ...(f.user ? { users: f.user } : {}),
              ...(f.document ? { regarding: f.document } : {}),
              ...(f.from ? { from: f.from } : {}),
              ...(f.to ? { to: new Date(Date.parse(f.to) + 86_400_000).toISOString() } : {}),
            },
          },
        }),
      ),
    [path],
  );
  useChanges(['events'], events.reload);
  const users = useLoad(() => ok(api.GET('/api/users', { params: { query: { take: 1000 } } })), []);
  useChanges(['users'], users.reload);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(q);
    if (v) next.set(k, v);
    else next.delete(k);
    navigate(`/configuration/audit${next.size ? `?${next}` : ''}`);
  };
  const items = events.data?.Items ?? [];
  const userList = [...(users.data?.Items ?? [])].sort((a, b) => a.Username.localeCompare(b.Username));
  // a user id in the address that is not in the list (deleted, or typed) still shows as chosen
  const unlisted = f.user && users.data && !userList.some((u) => u.Id === f.user);
  return (
    <section>
      <PageHeader title="Audit" />
      <form class="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="af-cat">Category</label>
          <select id="af-cat" value={f.category} onChange={(e) => set('category', e.currentTarget.value)}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c || 'Any'}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="af-user">User</label>
          <select id="af-user" value={f.user} onChange={(e) => set('user', e.currentTarget.value)}>
            <option value="">Anyone</option>
            {userList.map((u) => (
              <option key={u.Id} value={u.Id}>
                {u.DisplayName && u.DisplayName !== u.Username
                  ? `${u.Username} (${u.DisplayName})`
                  : u.Username}
              </option>
            ))}
            {unlisted && <option value={f.user}>{f.user}</option>}
          </select>
        </div>
        <div>
          <label for="af-doc">Document id</label>
          <input
            id="af-doc"
            value={f.document}
            placeholder="Projects-1"
            onChange={(e) => set('document', e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="af-from">From</label>
          <input
            id="af-from"
            type="date"
            value={f.from}
            onChange={(e) => set('from', e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="af-to">To</label>
          <input id="af-to" type="date" value={f.to} onChange={(e) => set('to', e.currentTarget.value)} />
        </div>
      </form>
      <ErrorBox error={events.error} />
      <ErrorBox error={users.error} />
      {!events.data && !events.error && <Loading what="events" />}
      {events.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Category</th>
                <th scope="col">What</th>
                <th scope="col">Documents</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.Id}>
                  <td>{formatTime(e.Occurred)}</td>
                  <td>{e.Username ?? 'system'}</td>
                  <td>{e.Category}</td>
                  <td>{e.Message}</td>
                  <td>
                    {e.RelatedDocumentIds.map((id) => {
                      const to = documentLink(id, spaceId);
                      return to ? (
                        <a key={id} class="doc-link" href={href(to)}>
                          {id}
                        </a>
                      ) : (
                        <span key={id} class="doc-link muted">
                          {id}
                        </span>
                      );
                    })}
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
