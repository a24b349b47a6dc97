import type { JSX } from 'preact';
import { AuditPage } from '../pages/audit/audit-page';
import { BackupsPage } from '../pages/configuration/backups-page';
import { ConfigurationPage } from '../pages/configuration/configuration-page';
import { DatabasePage, MoveDatabasePage } from '../pages/configuration/database-page';
import { MaintenancePage } from '../pages/configuration/maintenance-page';
import { MasterKeyPage } from '../pages/configuration/master-key-page';
import { NodesPage } from '../pages/configuration/nodes-page';
import { UsersPage } from '../pages/configuration/users-page';
import { DashboardPage } from '../pages/dashboard/dashboard-page';
import { EnvironmentsPage } from '../pages/environments/environments-page';
import { NotFoundPage } from '../pages/not-found-page';
import { ApiKeysPage } from '../pages/profile/api-keys-page';
import { ProjectPage } from '../pages/projects/project-page';
import { ProjectsPage } from '../pages/projects/projects-page';
import { TaskPage } from '../pages/tasks/task-page';
import { TasksPage } from '../pages/tasks/tasks-page';
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
    ['/profile/apikeys', () => <ApiKeysPage />],
    ['/configuration', () => <ConfigurationPage />, true],
    ['/configuration/maintenance', () => <MaintenancePage />, true],
    ['/configuration/nodes', () => <NodesPage />, true],
    ['/configuration/backups', () => <BackupsPage />, true],
    ['/configuration/database', () => <DatabasePage />, true],
    ['/configuration/database/move', () => <MoveDatabasePage />, true],
    ['/configuration/masterkey', () => <MasterKeyPage />, true],
    ['/configuration/users', () => <UsersPage />, true],
    ['/configuration/audit', (_p, path) => <AuditPage path={path} />],
    ['/:spaceId', () => <DashboardPage />],
    ['/:spaceId/projects', () => <ProjectsPage />],
    ['/:spaceId/projects/:id', (p) => <ProjectPage projectId={p.id!} tab="" />],
    ['/:spaceId/projects/:id/:tab', (p) => <ProjectPage projectId={p.id!} tab={p.tab!} />],
    ['/:spaceId/environments', () => <EnvironmentsPage />],
    ['/:spaceId/tasks', (_p, path) => <TasksPage path={path} />],
    ['/:spaceId/tasks/:id', (p) => <TaskPage taskId={p.id!} />],
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
