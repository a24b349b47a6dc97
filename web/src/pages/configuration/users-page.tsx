import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { useLoad } from '../../app/use-load';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

export function UsersPage() {
  const users = useLoad(() => ok(api.GET('/api/users', { params: { query: { take: 1000 } } })), []);
  useChanges(['users'], users.reload);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('deployer');
  const [error, setError] = useState<ApiError>();
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(
        api.POST('/api/users', {
          body: { Username: username, Password: password || null, CuttleRole: role },
        }),
      );
      setUsername('');
      setPassword('');
      setError(undefined);
      users.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <PageHeader title="Users and roles" />
      <p>
        Two roles: <strong>administrator</strong> (everything, also in maintenance mode) and{' '}
        <strong>deployer</strong> (reads everything, creates releases and deployments, cancels deployments;
        administers nothing).
      </p>
      <form class="field-row" onSubmit={add} aria-label="New user">
        <div>
          <label for="nu-name">Username</label>
          <input id="nu-name" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </div>
        <div>
          <label for="nu-pw">Password</label>
          <input
            id="nu-pw"
            type="password"
            autoComplete="new-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="nu-role">Role</label>
          <select id="nu-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="deployer">deployer</option>
            <option value="administrator">administrator</option>
          </select>
        </div>
        <button type="submit" class="primary">
          Add user
        </button>
      </form>
      <ErrorBox error={error ?? users.error} />
      {!users.data && !users.error && <Loading what="users" />}
      {users.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Active</th>
              </tr>
            </thead>
            <tbody>
              {users.data.Items.map((u) => (
                <tr key={u.Id}>
                  <th scope="row">
                    {u.DisplayName} <span class="muted small">({u.Username})</span>
                  </th>
                  <td>{u.CuttleRole}</td>
                  <td>{u.IsActive ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
