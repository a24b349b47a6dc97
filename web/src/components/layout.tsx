import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { href } from '../app/router';
import { useSession } from '../app/session';
import { Banners } from './banners';

interface NavItem {
  label: string;
  path: string;
  admin?: boolean;
}

export function Layout({ path, children }: { path: string; children: ComponentChildren }) {
  const { user, isAdmin, spaceId, signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const items: NavItem[] = [
    { label: 'Dashboard', path: `/${spaceId}` },
    { label: 'Projects', path: `/${spaceId}/projects` },
    { label: 'Environments', path: `/${spaceId}/environments` },
    { label: 'Tasks', path: `/${spaceId}/tasks` },
    { label: 'Audit', path: '/configuration/audit' },
    { label: 'Configuration', path: '/configuration', admin: true },
  ];
  const current = (p: string) =>
    p === `/${spaceId}`
      ? path === p || path === '/'
      : path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href(`/${spaceId}`)}>
          Cuttle
        </a>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <nav id="main-nav" class={menuOpen ? 'open' : ''} aria-label="Main">
          <ul>
            {items
              .filter((i) => !i.admin || isAdmin)
              .map((i) => (
                <li key={i.path}>
                  <a
                    href={href(i.path)}
                    aria-current={current(i.path) ? 'page' : undefined}
                    onClick={() => setMenuOpen(false)}
                  >
                    {i.label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div class="user">
          <a href={href('/profile/apikeys')} title="Your API keys">
            {user.DisplayName} <span class="muted">({user.CuttleRole})</span>
          </a>
          <button type="button" class="link-button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <Banners />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
