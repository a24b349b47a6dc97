import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { createInstance } from '../../src/admin/create-instance.js';
import { keyFileOf, loadInstance } from '../../src/admin/instance-context.js';
import { envelopeKeyIds } from '../../src/admin/master-key/reencrypt.js';
import type { Engine } from '../../src/config/connection-string.js';
import { type ConnectionTarget, parseConnectionString } from '../../src/config/connection-string.js';
import { loadConfig } from '../../src/config/instance-config.js';
import { getInstance } from '../../src/config/instance-registry.js';
import { seal } from '../../src/crypto/envelope.js';
import { readKeyFile } from '../../src/crypto/key-source.js';
import type { MasterKey } from '../../src/crypto/master-key.js';
import type { Database } from '../../src/storage/schema/database-types.js';
import { openStorage } from '../../src/storage/storage.js';
import { type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';

/** Each test file gets a registry of its own, in process and in the CLI children it starts. */
export function isolateRegistry(label: string): string {
  const file = path.join(tempDir(`reg-${label}`), 'instances.json');
  process.env.CUTTLE_REGISTRY = file;
  return file;
}

export interface AdminInstance {
  name: string;
  home: string;
  engine: Engine;
  db: TestDatabase;
  keyFile: string;
  key(): MasterKey;
  target(): ConnectionTarget;
}

let counter = 0;

export async function makeInstance(engine: Engine, label: string): Promise<AdminInstance> {
  const name = `${label}-${engine}-${++counter}`;
  const home = path.join(tempDir(label), 'home');
  const db = testDatabase(engine, label);
  await createInstance({
    name,
    home,
    connectionString: engine === 'sqlite' ? undefined : db.connectionString,
  });
  const cfg = loadConfig(getInstance(name).configFile);
  const keyFile = keyFileOf(cfg);
  const sqliteFile = path.join(home, 'cuttle.db');
  return {
    name,
    home,
    engine,
    db:
      engine === 'sqlite'
        ? { ...db, drop: async () => fs.rmSync(path.dirname(sqliteFile), { recursive: true, force: true }) }
        : db,
    keyFile,
    key: () => readKeyFile(keyFile),
    target: () => {
      const c = loadConfig(getInstance(name).configFile);
      return parseConnectionString(c.storage.connectionString, c.home);
    },
  };
}

export async function withDb<T>(
  target: ConnectionTarget,
  fn: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const s = await openStorage(target);
  try {
    return await fn(s.db);
  } finally {
    await s.close();
  }
}

/** Plaintexts planted as envelopes in several tables, whole and inside JSON. */
export const SECRETS = {
  dbPassword: 'Sup3r-Secret-DB-Password',
  apiToken: 'token-abc-123',
  snapshotA: 'snapshot-secret-A',
  snapshotB: 'snapshot-secret-B',
  spaceHook: 'space-webhook-secret',
  meta: 'metadata-secret',
};

export async function seedSecrets(db: Kysely<Database>, key: MasterKey): Promise<void> {
  const cn = 900_000;
  await db
    .insertInto('projects')
    .values({
      id: 'Projects-1',
      space_id: 'Spaces-1',
      name: 'Payments',
      name_normalized: 'payments',
      slug: 'payments',
      description: '',
      project_group_id: 'ProjectGroups-1',
      lifecycle_id: 'Lifecycles-1',
      is_disabled: false,
      json: '{}',
      change_number: cn,
    })
    .execute();
  await db
    .insertInto('variable_sets')
    .values({
      id: 'variableset-Projects-1',
      space_id: 'Spaces-1',
      owner_id: 'Projects-1',
      version: 1,
      change_number: cn,
    })
    .execute();
  const variable = (id: string, name: string, value: string | null, sensitive: boolean) => ({
    id,
    variable_set_id: 'variableset-Projects-1',
    name,
    value,
    is_sensitive: sensitive,
    scope_json: '{}',
    sort_order: 0,
    change_number: cn,
  });
  await db
    .insertInto('variables')
    .values([
      variable('Variables-1', 'DbPassword', seal(key, SECRETS.dbPassword), true),
      variable('Variables-2', 'ApiToken', seal(key, SECRETS.apiToken), true),
      variable('Variables-3', 'Region', 'eu-west-1', false),
    ])
    .execute();
  await db
    .insertInto('releases')
    .values({
      id: 'Releases-1',
      space_id: 'Spaces-1',
      project_id: 'Projects-1',
      channel_id: 'Channels-1',
      version: '1.0.0',
      release_notes: 'plain notes',
      assembled: '2024-01-01T00:00:00.000Z',
      process_snapshot_json: '{"Steps":[]}',
      variables_snapshot_json: JSON.stringify({
        Variables: [
          { Name: 'A', Value: seal(key, SECRETS.snapshotA), IsSensitive: true },
          { Name: 'B', Value: seal(key, SECRETS.snapshotB), IsSensitive: true },
          { Name: 'C', Value: 'plain', IsSensitive: false },
        ],
      }),
      change_number: cn,
    })
    .execute();
  await db
    .insertInto('spaces')
    .values({
      id: 'Spaces-9',
      name: 'Other',
      name_normalized: 'other',
      slug: 'other',
      description: '',
      is_default: false,
      task_queue_stopped: false,
      json: JSON.stringify({ Webhook: { Secret: seal(key, SECRETS.spaceHook) } }),
      change_number: cn,
    })
    .execute();
  await db
    .insertInto('instance_metadata')
    .values({
      key: 'test-sealed',
      value: seal(key, SECRETS.meta),
      updated: '2024-01-01T00:00:00.000Z',
      change_number: cn,
    })
    .execute();
}

export interface SecretsView {
  variables: Record<string, string | null>;
  snapshot: string;
  spaceJson: string;
  meta: string;
}

export async function readSecrets(db: Kysely<Database>): Promise<SecretsView> {
  const vars = await db.selectFrom('variables').select(['name', 'value']).execute();
  const rel = await db
    .selectFrom('releases')
    .select('variables_snapshot_json')
    .where('id', '=', 'Releases-1')
    .executeTakeFirstOrThrow();
  const sp = await db
    .selectFrom('spaces')
    .select('json')
    .where('id', '=', 'Spaces-9')
    .executeTakeFirstOrThrow();
  const meta = await db
    .selectFrom('instance_metadata')
    .select('value')
    .where('key', '=', 'test-sealed')
    .executeTakeFirstOrThrow();
  return {
    variables: Object.fromEntries(vars.map((v) => [v.name, v.value])),
    snapshot: rel.variables_snapshot_json,
    spaceJson: sp.json,
    meta: meta.value,
  };
}

/** Key ids of every sealed value in the database (canary included). */
export function keyIdsIn(target: ConnectionTarget): Promise<Map<string, number>> {
  return withDb(target, (db) => envelopeKeyIds(db));
}

export function instanceOpens(name: string): MasterKey {
  return loadInstance({ instance: name }).key;
}
