import { randomUUID } from 'node:crypto';
import { open, seal } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import { PreconditionError, UsageError } from '../lib/errors.js';
import { SUPPORTED_SUMMARY, unsupportedParts } from './supported-actions.js';

/**
 * Steps and actions of a deployment process, as the client sends them. Unknown fields are kept
 * as they are (a later client may send more); Ids sent empty get a fresh GUID, as Octopus does.
 *
 * Action properties are strings, or `{HasValue, NewValue}` when sensitive. A sensitive property
 * is stored as `{HasValue: true, SealedValue: <envelope>}` and always answered as
 * `{HasValue: true, NewValue: null}`: its clear value never leaves the server.
 */
export type Json = Record<string, unknown>;

interface SensitiveProperty {
  HasValue: boolean;
  NewValue?: string | null;
  SealedValue?: string;
}

function isSensitive(v: unknown): v is SensitiveProperty {
  return typeof v === 'object' && v !== null && 'HasValue' in v;
}

const arr = (v: unknown) => (Array.isArray(v) ? v : []);
const obj = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

function normalizeProperties(key: MasterKey, incoming: unknown, previous: Json): Json {
  const out: Json = {};
  for (const [name, value] of Object.entries(obj(incoming))) {
    if (isSensitive(value)) {
      if (typeof value.NewValue === 'string')
        out[name] = { HasValue: true, SealedValue: seal(key, value.NewValue) };
      else if (value.HasValue && isSensitive(previous[name]) && previous[name].SealedValue)
        out[name] = previous[name];
      else out[name] = { HasValue: false };
    } else if (value === null || value === undefined) {
      out[name] = '';
    } else {
      out[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return out;
}

function indexActions(steps: Json[]): Map<string, Json> {
  const m = new Map<string, Json>();
  for (const s of steps)
    for (const a of arr(s.Actions) as Json[]) if (typeof a.Id === 'string') m.set(a.Id, a);
  return m;
}

/**
 * One line per action Cuttle could not run, naming its step and action: a process holding one is
 * refused when it is saved, so the mistake shows where it is made, not at the first deployment.
 */
function unsupportedActions(key: MasterKey, steps: Json[]): string[] {
  const problems: string[] = [];
  for (const step of steps) {
    for (const action of arr(step.Actions) as Json[]) {
      const where = `Step "${String(step.Name)}", action "${String(action.Name)}"`;
      const type = String(action.ActionType);
      const { values } = clearProperties(key, action.Properties);
      for (const part of unsupportedParts(type, values)) problems.push(`${where}: ${part}`);
    }
  }
  return problems;
}

/**
 * The steps to store: Ids filled in, sensitive properties sealed. Refuses (STEP_UNSUPPORTED, 400;
 * nothing stored) a process with an action Cuttle cannot run.
 */
export function normalizeSteps(key: MasterKey, incoming: unknown, previousSteps: Json[]): Json[] {
  const steps = normalizeStepShapes(key, incoming, previousSteps);
  const problems = unsupportedActions(key, steps);
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more, listed below)` : '';
    throw new PreconditionError(
      `The deployment process was not saved. ${problems[0]}${more} ${SUPPORTED_SUMMARY}`,
      {
        code: 'STEP_UNSUPPORTED',
        details: problems.length > 1 ? problems : [],
      },
    );
  }
  return steps;
}

function normalizeStepShapes(key: MasterKey, incoming: unknown, previousSteps: Json[]): Json[] {
  if (!Array.isArray(incoming)) throw new UsageError('Steps must be an array.', { code: 'REQUEST_INVALID' });
  const oldActions = indexActions(previousSteps);
  return incoming.map((raw, i) => {
    const s = obj(raw);
    const name = String(s.Name ?? '').trim() || `Step ${i + 1}`;
    const actions = arr(s.Actions).map((rawAction, j) => {
      const a = obj(rawAction);
      const id = typeof a.Id === 'string' && a.Id ? a.Id : randomUUID();
      const prev = obj(oldActions.get(id)?.Properties);
      return {
        ...a,
        Id: id,
        Name: String(a.Name ?? '').trim() || (j === 0 ? name : `${name} ${j + 1}`),
        ActionType: String(a.ActionType ?? 'Octopus.Script'),
        IsDisabled: a.IsDisabled === true,
        IsRequired: a.IsRequired === true,
        Condition: a.Condition ?? null,
        Container: a.Container ?? { Image: null, FeedId: null },
        WorkerPoolId: a.WorkerPoolId ?? null,
        Environments: arr(a.Environments),
        ExcludedEnvironments: arr(a.ExcludedEnvironments),
        Channels: arr(a.Channels),
        TenantTags: arr(a.TenantTags),
        Packages: arr(a.Packages),
        Properties: normalizeProperties(key, a.Properties, prev),
      };
    });
    return {
      ...s,
      Id: typeof s.Id === 'string' && s.Id ? s.Id : randomUUID(),
      Name: name,
      Condition: s.Condition ?? 'Success',
      StartTrigger: s.StartTrigger ?? 'StartAfterPrevious',
      PackageRequirement: s.PackageRequirement ?? 'LetOctopusDecide',
      Properties: normalizeProperties(key, s.Properties, {}),
      Actions: actions,
    };
  });
}

/** The API view: sensitive properties lose their sealed value. */
export function publicSteps(steps: Json[]): Json[] {
  const strip = (props: unknown): Json => {
    const out: Json = {};
    for (const [k, v] of Object.entries(obj(props))) {
      out[k] = isSensitive(v) ? { HasValue: v.HasValue === true, NewValue: null } : v;
    }
    return out;
  };
  return steps.map((s) => ({
    ...s,
    Properties: strip(s.Properties),
    Actions: (arr(s.Actions) as Json[]).map((a) => ({ ...a, Properties: strip(a.Properties) })),
  }));
}

/** The executor's view: every property as clear text (sensitive ones are also returned for masking). */
export function clearProperties(
  key: MasterKey,
  props: unknown,
): { values: Record<string, string>; secrets: string[] } {
  const values: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [k, v] of Object.entries(obj(props))) {
    if (isSensitive(v)) {
      const clear = v.SealedValue ? open(key, v.SealedValue) : '';
      values[k] = clear;
      if (clear) secrets.push(clear);
    } else values[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return { values, secrets };
}
