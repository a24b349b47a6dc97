import type { JSX } from 'preact';
import { DashboardPage } from '../pages/dashboard/dashboard-page';
import { NotFoundPage } from '../pages/not-found-page';
import { match } from './router';
import type { SessionValue } from './session';

type Route = [
  pattern: string,
  page: (p: Record<string, string>, path: string) => JSX.Element,
  admin?: boolean,
];

/** Every page of the portal, by hash path. Spaces-1 is the space of the API's own links. */
function routes(): Route[] {
  return [
    ['/', () => <DashboardPage />],
    ['/:spaceId', () => <DashboardPage />],
  ];
}

export function pageFor(path: string, session: SessionValue): JSX.Element {
  for (const [pattern, page, admin] of routes()) {
    const m = match(pattern, path);
    if (!m) continue;
    if (admin && !session.isAdmin) return <NotFoundPage reason="This page is for administrators." />;
    return page(m, path);
  }
  return <NotFoundPage />;
}
