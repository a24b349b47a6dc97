import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { navigate } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { formatTime } from '../../components/format';
import { ErrorBox, Loading } from '../../components/ui';
import type { Project } from './project-types';

export function ReleasesPanel({ project }: { project: Project }) {
  const { spaceId } = useSession();
  const releases = useLoad(
    () =>
      ok(
        api.GET('/api/{spaceId}/projects/{id}/releases', {
          params: { path: { spaceId, id: project.Id }, query: { take: 50 } },
        }),
      ),
    [spaceId, project.Id],
  );
  useChanges(['releases'], releases.reload);
  const [version, setVersion] = useState('');
  const [error, setError] = useState<ApiError>();
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(
        api.POST('/api/{spaceId}/releases/create/v1', {
          params: { path: { spaceId } },
          body: {
            spaceIdOrName: spaceId,
            ProjectName: project.Name,
            ...(version ? { ReleaseVersion: version } : {}),
          },
        }),
      );
      setVersion('');
      setError(undefined);
      releases.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="releases-title">
      <h2 id="releases-title">Releases</h2>
      <form class="field-row" onSubmit={create} aria-label="Create release">
        <div>
          <label for="rel-version">Version (empty: next)</label>
          <input
            id="rel-version"
            value={version}
            onInput={(e) => setVersion(e.currentTarget.value)}
            placeholder="e.g. 1.0.3"
          />
        </div>
        <button type="submit" class="primary">
          Create release
        </button>
      </form>
      <ErrorBox error={error} />
      {!releases.data && !releases.error && <Loading what="releases" />}
      <ErrorBox error={releases.error} />
      {releases.data && releases.data.Items.length === 0 && <p>No releases yet.</p>}
      {releases.data && releases.data.Items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
                <th scope="col">Deploy</th>
              </tr>
            </thead>
            <tbody>
              {releases.data.Items.map((r) => (
                <tr key={r.Id} data-release={r.Version}>
                  <th scope="row">{r.Version}</th>
                  <td>{formatTime(r.Assembled)}</td>
                  <td>
                    <DeployMenu releaseId={r.Id} version={r.Version} />
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

/** "Deploy to ..." with the environments the project's lifecycle allows; the server's refusal is shown as it says it. */
function DeployMenu({ releaseId, version }: { releaseId: string; version: string }) {
  const { spaceId } = useSession();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const template = useLoad(
    () =>
      open
        ? ok(
            api.GET('/api/{spaceId}/releases/{id}/deployments/template', {
              params: { path: { spaceId, id: releaseId } },
            }),
          )
        : Promise.resolve(undefined),
    [open, spaceId, releaseId],
  );
  const deploy = async (environmentId: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const d = await ok(
        api.POST('/api/{spaceId}/deployments', {
          params: { path: { spaceId } },
          body: { ReleaseId: releaseId, EnvironmentId: environmentId },
        }),
      );
      navigate(`/${spaceId}/tasks/${d.TaskId}`);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Deploy <span class="visually-hidden">{version} </span>to…
      </button>
    );
  }
  return (
    <fieldset class="deploy-menu">
      <legend class="visually-hidden">Deploy {version} to</legend>
      {template.data?.PromoteTo.map((e) => (
        <button type="button" class="primary" key={e.Id} disabled={busy} onClick={() => void deploy(e.Id)}>
          Deploy to {e.Name}
        </button>
      ))}
      {template.data && template.data.PromoteTo.length === 0 && (
        <span class="muted">The lifecycle allows no environment; add one under Environments.</span>
      )}
      <button type="button" onClick={() => setOpen(false)}>
        Close
      </button>
      <ErrorBox error={error} />
      <ErrorBox error={template.error} />
    </fieldset>
  );
}
