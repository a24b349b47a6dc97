import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ok, whenSignedOut } from '../api/client';
import { Layout } from '../components/layout';
import { Loading } from '../components/ui';
import { SignInPage } from '../pages/sign-in/sign-in-page';
import { startLive, stopLive } from './live';
import { navigate, useRoute } from './router';
import { pageFor } from './routes';
import { type CurrentUser, SessionContext, type SessionValue } from './session';

type Boot =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'in'; user: CurrentUser; spaceId: string };

async function defaultSpace(): Promise<string> {
  const spaces = await ok(api.GET('/api/spaces', { params: { query: { take: 100 } } }));
  return (spaces.Items.find((s) => s.IsDefault) ?? spaces.Items[0])?.Id ?? 'Spaces-1';
}

export function App() {
  const path = useRoute();
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });

  const enter = useCallback(async (user: CurrentUser, space: Promise<string> = defaultSpace()) => {
    const spaceId = await space;
    setBoot({ state: 'in', user, spaceId });
    startLive();
  }, []);

  useEffect(() => {
    whenSignedOut(() => {
      stopLive();
      setBoot({ state: 'signed-out' });
    });
    // The user and the default space at once, not one after the other: the first page needs both.
    // Signed out, both are refused (401) and the sign-in page shows.
    const space = defaultSpace();
    space.catch(() => {});
    ok(api.GET('/api/users/me')).then(
      (user) => enter(user, space),
      () => setBoot({ state: 'signed-out' }),
    );
  }, [enter]);

  useEffect(() => {
    // Focus moves to the page's content on navigation, so keyboard and screen reader users start there.
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  if (boot.state === 'loading') return <Loading what="Cuttle" />;
  if (boot.state === 'signed-out') {
    return (
      <SignInPage
        onSignedIn={(u) => {
          void enter(u);
          if (path === '/' || path === '/sign-in') navigate('/');
        }}
      />
    );
  }
  const session: SessionValue = {
    user: boot.user,
    isAdmin: boot.user.CuttleRole === 'administrator',
    spaceId: boot.spaceId,
    signOut: async () => {
      await ok(api.POST('/api/users/logout')).catch(() => {});
      stopLive();
      setBoot({ state: 'signed-out' });
    },
  };
  return (
    <SessionContext.Provider value={session}>
      <Layout path={path}>{pageFor(path, session)}</Layout>
    </SessionContext.Provider>
  );
}
