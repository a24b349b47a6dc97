import { useState } from 'preact/hooks';
import { ApiError, api, ok } from '../../api/client';
import type { CurrentUser } from '../../app/session';
import { ErrorBox } from '../../components/ui';

export function SignInPage({ onSignedIn }: { onSignedIn: (u: CurrentUser) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const user = await ok(
        api.POST('/api/users/login', { body: { Username: username, Password: password } }),
      );
      setPassword('');
      onSignedIn(user);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Cuttle</h1>
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <ErrorBox error={error} id="sign-in-error" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="muted small">
          No password yet? An administrator sets one with{' '}
          <code>cuttle admin --username NAME --password …</code>.
        </p>
      </form>
    </main>
  );
}
