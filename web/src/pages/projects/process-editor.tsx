import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import type { Syntax } from '../../components/editor/codemirror';
import { ScriptEditor } from '../../components/editor/script-editor';
import { ErrorBox, Loading } from '../../components/ui';
import type { Project } from './project-types';

type Json = Record<string, unknown>;

interface StepDraft {
  key: number;
  raw: Json;
  name: string;
  syntax: Syntax;
  script: string;
  /** A step that is not one inline script: kept as it is, only its name is edited here. */
  other: boolean;
}

const SYNTAX = 'Octopus.Action.Script.Syntax';
const BODY = 'Octopus.Action.Script.ScriptBody';
let nextKey = 1;

function draftOf(raw: Json): StepDraft {
  const action = ((raw.Actions as Json[] | undefined) ?? [])[0] ?? {};
  const props = (action.Properties as Record<string, unknown> | undefined) ?? {};
  const script = action.ActionType === 'Octopus.Script' && typeof props[BODY] === 'string';
  return {
    key: nextKey++,
    raw,
    name: String(raw.Name ?? ''),
    syntax: props[SYNTAX] === 'PowerShell' ? 'PowerShell' : 'Bash',
    script: script ? String(props[BODY]) : '',
    other: !script,
  };
}

function stepOf(d: StepDraft): Json {
  if (d.other) return { ...d.raw, Name: d.name };
  const actions = (d.raw.Actions as Json[] | undefined) ?? [];
  const first = actions[0] ?? {};
  return {
    Id: '',
    Condition: 'Success',
    StartTrigger: 'StartAfterPrevious',
    PackageRequirement: 'LetOctopusDecide',
    Properties: {},
    ...d.raw,
    Name: d.name,
    Actions: [
      {
        Id: '',
        ...first,
        Name: d.name,
        ActionType: 'Octopus.Script',
        Properties: {
          ...((first.Properties as Json | undefined) ?? {}),
          'Octopus.Action.RunOnServer': 'true',
          'Octopus.Action.Script.ScriptSource': 'Inline',
          [SYNTAX]: d.syntax,
          [BODY]: d.script,
        },
      },
      ...actions.slice(1),
    ],
  };
}

export function ProcessEditor({ project }: { project: Project }) {
  const { spaceId, isAdmin } = useSession();
  const path = { spaceId, id: project.Id };
  const proc = useLoad(
    () => ok(api.GET('/api/{spaceId}/projects/{id}/deploymentprocesses', { params: { path } })),
    [spaceId, project.Id],
  );
  const [steps, setSteps] = useState<StepDraft[]>([]);
  const [version, setVersion] = useState<number>();
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!proc.data) return;
    setSteps((proc.data.Steps as Json[]).map(draftOf));
    setVersion(proc.data.Version);
  }, [proc.data]);
  if (proc.error) return <ErrorBox error={proc.error} />;
  if (!proc.data) return <Loading what="the deployment process" />;
  const update = (key: number, change: Partial<StepDraft>) => {
    setSaved(false);
    setSteps((s) => s.map((d) => (d.key === key ? { ...d, ...change } : d)));
  };
  const move = (i: number, by: number) =>
    setSteps((s) => {
      const out = [...s];
      const [d] = out.splice(i, 1);
      out.splice(i + by, 0, d!);
      return out;
    });
  const save = async () => {
    try {
      const r = await ok(
        api.PUT('/api/{spaceId}/projects/{id}/deploymentprocesses', {
          params: { path },
          body: { Version: version, Steps: steps.map(stepOf) },
        }),
      );
      setVersion(r.Version);
      setSteps((r.Steps as Json[]).map(draftOf));
      setError(undefined);
      setSaved(true);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-label="Deployment process">
      {steps.length === 0 && <p>This process has no steps yet.</p>}
      <ol class="plain-list">
        {steps.map((d, i) => (
          <li class="step" key={d.key}>
            <div class="step-head">
              <div>
                <label for={`step-name-${d.key}`}>Step {i + 1} name</label>
                <input
                  id={`step-name-${d.key}`}
                  value={d.name}
                  disabled={!isAdmin}
                  onInput={(e) => update(d.key, { name: e.currentTarget.value })}
                />
              </div>
              {!d.other && (
                <div>
                  <label for={`step-syntax-${d.key}`}>Script syntax</label>
                  <select
                    id={`step-syntax-${d.key}`}
                    value={d.syntax}
                    disabled={!isAdmin}
                    onChange={(e) => update(d.key, { syntax: e.currentTarget.value as Syntax })}
                  >
                    <option>Bash</option>
                    <option>PowerShell</option>
                  </select>
                </div>
              )}
              {isAdmin && (
                <div class="form-actions">
                  <button
                    type="button"
                    disabled={i === 0}
                    onClick={() => move(i, -1)}
                    aria-label={`Move step ${i + 1} up`}
                  >
                    Up
                  </button>
                  <button
                    type="button"
                    disabled={i === steps.length - 1}
                    onClick={() => move(i, 1)}
                    aria-label={`Move step ${i + 1} down`}
                  >
                    Down
                  </button>
                  <button
                    type="button"
                    onClick={() => setSteps((s) => s.filter((x) => x.key !== d.key))}
                    aria-label={`Remove step ${i + 1}`}
                  >
                    Remove
                  </button>
                </div>
              )}
            </div>
            {d.other ? (
              <p class="muted small">This step is not an inline script; edit it through the API.</p>
            ) : (
              <>
                <p class="label" id={`step-script-${d.key}`}>
                  Script
                </p>
                <ScriptEditor
                  value={d.script}
                  syntax={d.syntax}
                  label={`Script of step ${i + 1}`}
                  onChange={(v) => update(d.key, { script: v })}
                />
              </>
            )}
          </li>
        ))}
      </ol>
      <ErrorBox error={error} />
      {saved && (
        <p class="notice" role="status">
          Process saved (version {version}).
        </p>
      )}
      {isAdmin && (
        <div class="form-actions">
          <button
            type="button"
            onClick={() =>
              setSteps((s) => [
                ...s,
                {
                  key: nextKey++,
                  raw: {},
                  name: `Step ${s.length + 1}`,
                  syntax: 'Bash',
                  script: '',
                  other: false,
                },
              ])
            }
          >
            Add script step
          </button>
          <button type="button" class="primary" onClick={() => void save()}>
            Save process
          </button>
        </div>
      )}
    </section>
  );
}
