import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { seal } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import { ConflictError, NotFoundError, UsageError } from '../lib/errors.js';
import {
  getVariableSet,
  listVariables,
  replaceVariables,
  type VariableRow,
  type VariableSetRow,
} from '../storage/repositories/variable-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';
import { requireProject, variableSetIdOf } from './project-service.js';

/**
 * Project variables. A sensitive value is sealed with the master key before it reaches the
 * repository and is answered as `Value: null`; a PUT that sends a sensitive variable back with
 * `Value: null` keeps the stored value (that is how Octopus clients round-trip a variable set).
 */
export type Scope = Record<string, string[]>;

/** What a variables row stores in scope_json besides the scope. */
interface VariableDoc {
  Scope?: Scope;
  Description?: string | null;
  Prompt?: unknown;
}

export interface VariableInput {
  Id?: string;
  Name?: string;
  Value?: string | null;
  Description?: string | null;
  Scope?: Scope;
  IsSensitive?: boolean;
  Type?: string;
  Prompt?: unknown;
}

function variableResource(row: VariableRow) {
  const doc = JSON.parse(row.scope_json || '{}') as VariableDoc;
  const sensitive = toBool(row.is_sensitive);
  return {
    Id: row.id,
    Name: row.name,
    Value: sensitive ? null : row.value,
    Description: doc.Description ?? null,
    Scope: doc.Scope ?? {},
    IsEditable: true,
    Prompt: doc.Prompt ?? null,
    Type: sensitive ? 'Sensitive' : 'String',
    IsSensitive: sensitive,
  };
}

function setResource(set: VariableSetRow, rows: VariableRow[]) {
  return {
    Id: set.id,
    OwnerId: set.owner_id,
    SpaceId: set.space_id,
    Version: set.version,
    Variables: rows.map(variableResource),
    ScopeValues: {
      Environments: [],
      Machines: [],
      Actions: [],
      Roles: [],
      Channels: [],
      TenantTags: [],
      Processes: [],
    },
    Links: { Self: `/api/${set.space_id}/variables/${set.id}` },
  };
}

async function requireSet(db: Kysely<Database>, spaceId: string, projectId: string) {
  await requireProject(db, spaceId, projectId);
  const set = await getVariableSet(db, variableSetIdOf(projectId));
  if (!set) throw new NotFoundError(`The project ${projectId} has no variable set.`, { code: 'NOT_FOUND' });
  return set;
}

export async function getProjectVariables(db: Kysely<Database>, spaceId: string, projectId: string) {
  const set = await requireSet(db, spaceId, projectId);
  return setResource(set, await listVariables(db, set.id));
}

export async function updateProjectVariables(
  db: Kysely<Database>,
  key: MasterKey,
  actor: Actor,
  spaceId: string,
  projectId: string,
  body: { Version?: number; Variables?: VariableInput[] },
) {
  requireAdministrator(actor, 'edit variables');
  if (!Array.isArray(body.Variables))
    throw new UsageError('Variables must be an array.', { code: 'REQUEST_INVALID' });
  return db.transaction().execute(async (tx) => {
    const set = await requireSet(tx, spaceId, projectId);
    if (typeof body.Version === 'number' && body.Version !== set.version) {
      throw new ConflictError(
        `The variables were changed by someone else (version ${set.version}, yours ${body.Version}). Reload them and try again.`,
        { code: 'STALE_VERSION' },
      );
    }
    const old = new Map((await listVariables(tx, set.id)).map((r) => [r.id, r]));
    const seen = new Set<string>();
    const rows = (body.Variables ?? []).map((v, i) => {
      const name = String(v.Name ?? '').trim();
      if (!name) throw new UsageError(`Variable ${i + 1} has no Name.`, { code: 'REQUEST_INVALID' });
      let id = typeof v.Id === 'string' && v.Id ? v.Id : randomUUID();
      if (seen.has(id)) id = randomUUID();
      seen.add(id);
      const sensitive = v.IsSensitive === true || v.Type === 'Sensitive';
      const previous = old.get(id);
      let value: string | null;
      if (!sensitive) value = v.Value ?? '';
      else if (typeof v.Value === 'string') value = seal(key, v.Value);
      else value = previous && toBool(previous.is_sensitive) ? previous.value : null;
      const doc: VariableDoc = {
        Scope: v.Scope ?? {},
        Description: v.Description ?? null,
        Prompt: v.Prompt ?? null,
      };
      return {
        id,
        variable_set_id: set.id,
        name,
        value,
        is_sensitive: sensitive,
        scope_json: JSON.stringify(doc),
        sort_order: i,
      };
    });
    await replaceVariables(tx, set, rows);
    await writeEvent(tx, {
      category: 'Modified',
      message: `Variables of project ${projectId} were modified.`,
      relatedDocumentIds: [set.id, projectId],
      spaceId,
      ...eventActor(actor),
    });
    return setResource({ ...set, version: set.version + 1 }, await listVariables(tx, set.id));
  });
}

/** A release's copy of the variables: sensitive values stay sealed envelopes. */
export interface VariableSnapshotEntry {
  Name: string;
  Value: string | null;
  IsSensitive: boolean;
  Scope: Scope;
}

export async function snapshotVariables(
  db: Kysely<Database>,
  projectId: string,
): Promise<VariableSnapshotEntry[]> {
  const set = await getVariableSet(db, variableSetIdOf(projectId));
  if (!set) return [];
  return (await listVariables(db, set.id)).map((r) => ({
    Name: r.name,
    Value: r.value,
    IsSensitive: toBool(r.is_sensitive),
    Scope: (JSON.parse(r.scope_json || '{}') as VariableDoc).Scope ?? {},
  }));
}
