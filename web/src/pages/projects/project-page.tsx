import { api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';
import { ProcessEditor } from './process-editor';
import { ProjectSettings } from './project-settings';
import { ReleasesPanel } from './releases-panel';
import { VariablesEditor } from './variables-editor';

const TABS = [
  ['', 'Releases'],
  ['process', 'Process'],
  ['variables', 'Variables'],
  ['settings', 'Settings'],
] as const;

export function ProjectPage({ projectId, tab }: { projectId: string; tab: string }) {
  const { spaceId } = useSession();
  const project = useLoad(
    () => ok(api.GET('/api/{spaceId}/projects/{id}', { params: { path: { spaceId, id: projectId } } })),
    [spaceId, projectId],
  );
  useChanges(['projects'], project.reload);
  const base = `/${spaceId}/projects/${projectId}`;
  if (project.error) return <ErrorBox error={project.error} />;
  if (!project.data) return <Loading what="the project" />;
  const p = project.data;
  return (
    <section>
      <PageHeader title={p.Name} />
      <nav aria-label="Project">
        <ul class="tabs">
          {TABS.map(([t, label]) => (
            <li key={t}>
              <a href={href(t ? `${base}/${t}` : base)} aria-current={tab === t ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === '' && <ReleasesPanel project={p} />}
      {tab === 'process' && <ProcessEditor project={p} />}
      {tab === 'variables' && <VariablesEditor project={p} />}
      {tab === 'settings' && <ProjectSettings project={p} onSaved={project.reload} />}
    </section>
  );
}
