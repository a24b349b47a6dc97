import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { ErrorBox, Loading } from '../../components/ui';
import type { Project } from './project-types';

interface Row {
  key: number;
  id: string | null;
  name: string;
  /** For a stored sensitive value: null until a new value is typed (the server keeps the old one). */
  value: string | null;
  sensitive: boolean;
  stored: boolean;
}

let nextKey = 1;

/**
 * Variables. A sensitive value is write-only: the server never sends it (Value is null), the page
 * shows that one is set, and a save sends null for it unless a new value was typed.
 */
export function VariablesEditor({ project }: { project: Project }) {
  const { spaceId, isAdmin } = useSession();
  const path = { spaceId, id: project.Id };
  const set = useLoad(
    () => ok(api.GET('/api/{spaceId}/projects/{id}/variables', { params: { path } })),
    [spaceId, project.Id],
  );
  const [rows, setRows] = useState<Row[]>([]);
  const [version, setVersion] = useState<number>();
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  const load = (vs: NonNullable<typeof set.data>) => {
    setVersion(vs.Version);
    setRows(
      vs.Variables.map((v) => ({
        key: nextKey++,
        id: v.Id,
        name: v.Name,
        value: v.IsSensitive ? null : (v.Value ?? ''),
        sensitive: v.IsSensitive,
        stored: true,
      })),
    );
  };
  useEffect(() => {
    if (set.data) load(set.data);
  }, [set.data]);
  if (set.error) return <ErrorBox error={set.error} />;
  if (!set.data) return <Loading what="variables" />;
  const edit = (key: number, change: Partial<Row>) => {
    setSaved(false);
    setRows((r) => r.map((x) => (x.key === key ? { ...x, ...change } : x)));
  };
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await ok(
        api.PUT('/api/{spaceId}/projects/{id}/variables', {
          params: { path },
          body: {
            Version: version,
            Variables: rows.map((x) => ({
              Id: x.id,
              Name: x.name,
              Value: x.sensitive && x.value === null ? null : (x.value ?? ''),
              IsSensitive: x.sensitive,
              Type: x.sensitive ? 'Sensitive' : 'String',
            })),
          },
        }),
      );
      load(r);
      setError(undefined);
      setSaved(true);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <form onSubmit={save} aria-label="Project variables">
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Sensitive</th>
              {isAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((x, i) => (
              <tr key={x.key}>
                <td>
                  <input
                    aria-label={`Name of variable ${i + 1}`}
                    value={x.name}
                    disabled={!isAdmin}
                    onInput={(e) => edit(x.key, { name: e.currentTarget.value })}
                  />
                </td>
                <td>
                  {x.sensitive && x.value === null ? (
                    <span>
                      <span class="muted">Set (hidden) </span>
                      {isAdmin && (
                        <button
                          type="button"
                          onClick={() => edit(x.key, { value: '' })}
                          aria-label={`Change value of ${x.name}`}
                        >
                          Change
                        </button>
                      )}
                    </span>
                  ) : (
                    <input
                      aria-label={`Value of variable ${i + 1}`}
                      type={(x.sensitive ? 'password' : 'text') as 'text'}
                      autoComplete="off"
                      value={x.value ?? ''}
                      disabled={!isAdmin}
                      onInput={(e) => edit(x.key, { value: e.currentTarget.value })}
                    />
                  )}
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Variable ${i + 1} is sensitive`}
                    checked={x.sensitive}
                    disabled={!isAdmin || (x.sensitive && x.stored)}
                    onChange={(e) => edit(x.key, { sensitive: e.currentTarget.checked })}
                  />
                </td>
                {isAdmin && (
                  <td>
                    <button type="button" onClick={() => setRows((r) => r.filter((y) => y.key !== x.key))}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={error} />
      {saved && (
        <p class="notice" role="status">
          Variables saved.
        </p>
      )}
      {isAdmin && (
        <div class="form-actions">
          <button
            type="button"
            onClick={() =>
              setRows((r) => [
                ...r,
                { key: nextKey++, id: null, name: '', value: '', sensitive: false, stored: false },
              ])
            }
          >
            Add variable
          </button>
          <button type="submit" class="primary">
            Save variables
          </button>
        </div>
      )}
    </form>
  );
}
