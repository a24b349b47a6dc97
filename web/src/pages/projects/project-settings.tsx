import { useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { ErrorBox } from '../../components/ui';
import type { Project } from './project-types';

export function ProjectSettings({ project, onSaved }: { project: Project; onSaved: () => void }) {
  const { spaceId, isAdmin } = useSession();
  const [name, setName] = useState(project.Name);
  const [description, setDescription] = useState(project.Description);
  const [disabled, setDisabled] = useState(project.IsDisabled);
  const [retry, setRetry] = useState(project.RetryOnNodeFailure);
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    try {
      await ok(
        api.PUT('/api/{spaceId}/projects/{id}', {
          params: { path: { spaceId, id: project.Id } },
          body: { Name: name, Description: description, IsDisabled: disabled, RetryOnNodeFailure: retry },
        }),
      );
      setError(undefined);
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <form onSubmit={save} aria-label="Project settings">
      <label for="ps-name">Name</label>
      <input id="ps-name" value={name} disabled={!isAdmin} onInput={(e) => setName(e.currentTarget.value)} />
      <label for="ps-desc">Description</label>
      <input
        id="ps-desc"
        value={description}
        disabled={!isAdmin}
        onInput={(e) => setDescription(e.currentTarget.value)}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={disabled}
          disabled={!isAdmin}
          onChange={(e) => setDisabled(e.currentTarget.checked)}
        />
        Disabled (no deployments)
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={retry}
          disabled={!isAdmin}
          onChange={(e) => setRetry(e.currentTarget.checked)}
        />
        Run a step again when its server node dies (only for steps safe to run twice; otherwise such a
        deployment fails and is redeployed by hand)
      </label>
      <ErrorBox error={error} />
      {saved && (
        <p class="notice" role="status">
          Saved.
        </p>
      )}
      {isAdmin && (
        <div class="form-actions">
          <button type="submit" class="primary">
            Save
          </button>
        </div>
      )}
    </form>
  );
}
