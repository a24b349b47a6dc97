import os from 'node:os';
import type { Kysely } from 'kysely';
import { parseConnectionString } from '../../config/connection-string.js';
import { writeEvent } from '../../core/event-service.js';
import { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { schemaStatus } from '../../storage/migrator.js';
import { getMetaJson, META } from '../../storage/repositories/metadata-repository.js';
import type { Database } from '../../storage/schema/database-types.js';
import { assertServiceStopped } from '../home/running-service.js';
import { type FenceMarker, fencedError, type InstanceRef } from '../instance-context.js';
import { checkCanary, writeCanary } from '../master-key-canary.js';
import {
  beginKeySwitch,
  finishKeySwitch,
  loadKeyContext,
  openContextStorage,
  recoverKeySwitch,
} from './key-switch.js';
import { type ColumnCount, clearTransform, rewriteEnvelopes } from './reencrypt.js';

export interface LostKeyInput extends InstanceRef {
  confirmed: boolean;
  /** The full connection string, needed when the config's password was sealed with the lost key. */
  storageConnectionString?: string;
  /** Reset even though the current key still opens the database (Octopus's --skipCurrentMasterKeyTest). */
  skipCurrentKeyTest?: boolean;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface ClearedVariable {
  id: string;
  owner: string;
  project?: string;
  name: string;
}

export interface LostKeyResult {
  instance: string;
  newKeyId: string;
  keyFile: string;
  counts: ColumnCount[];
  variables: ClearedVariable[];
  eventId: string;
}

const CANARY_ROW = (table: string, key: unknown[]) => table === 'instance_metadata' && key[0] === META.canary;

/**
 * `cuttle lost-master-key`: when no copy of the master key survives, a new key is made and every
 * sealed value, which nobody can open any more, is cleared in one transaction with an audit event.
 * The report lists the variables to enter again.
 */
export async function lostMasterKey(input: LostKeyInput): Promise<LostKeyResult> {
  if (!input.confirmed) {
    throw new UsageError('lost-master-key clears every sensitive value of the instance.', {
      code: 'CONFIRMATION_REQUIRED',
      hints: [
        'Add --i-really-want-to-reset-all-my-sensitive-data to go ahead (take a database backup first).',
      ],
    });
  }
  const ctx = loadKeyContext(input, { faults: input.faults });
  const override = input.storageConnectionString
    ? parseConnectionString(input.storageConnectionString)
    : undefined;
  const storage = await openContextStorage(ctx, override);
  try {
    await recoverKeySwitch(ctx, storage, { target: override });
    const status = await schemaStatus(storage);
    if (status.state !== 'current') {
      throw new PreconditionError(
        `The database at ${storage.description} is not at this Cuttle's schema (${status.state}).`,
        {
          code: 'SCHEMA_OUTDATED',
          hints: ['Run `cuttle database upgrade` first, or use the Cuttle version that matches it.'],
        },
      );
    }
    const fence = await getMetaJson<FenceMarker>(storage.db, META.fence);
    if (fence) throw fencedError(fence, storage.description);
    if (ctx.current && !input.skipCurrentKeyTest && (await checkCanary(storage.db, ctx.current)).ok) {
      throw new PreconditionError(
        `The master key of instance "${ctx.name}" still opens its database: it is not lost. Nothing was changed.`,
        {
          code: 'MASTER_KEY_NOT_LOST',
          hints: [
            'To change the key, use `cuttle rotate-master-key` (it keeps every sensitive value).',
            'To reset anyway, add --skip-current-master-key-test.',
          ],
        },
      );
    }
    await assertServiceStopped(ctx.config, 'reset the master key', { db: storage.db, allNodes: true });
    const next = MasterKey.generate();
    beginKeySwitch(ctx, next);
    const result = await storage.db.transaction().execute(async (trx) => {
      const changedVariables: string[] = [];
      const counts = await rewriteEnvelopes(trx, clearTransform, {
        skipRow: CANARY_ROW,
        onRow: (table, key) => {
          if (table === 'variables') changedVariables.push(String(key[0]));
        },
      });
      await writeCanary(trx, next);
      const variables = await describeVariables(trx, changedVariables);
      const cleared = counts.reduce((n, c) => n + c.values, 0);
      const eventId = await writeEvent(trx, {
        category: 'MasterKeyReset',
        message: `The master key was reset (lost-master-key): ${cleared} sensitive value(s) were cleared and must be entered again.`,
        relatedDocumentIds: [...new Set(variables.map((v) => v.owner))],
        username: `${os.userInfo().username} (cuttle lost-master-key)`,
        details: {
          NewMasterKeyId: next.id,
          Cleared: counts,
          Variables: variables.map((v) => ({ Owner: v.project ?? v.owner, Name: v.name })),
        },
      });
      ctx.faults.at('lost:before-commit');
      return { counts, variables, eventId };
    });
    await finishKeySwitch(ctx, next, { target: override, note: 'lost-master-key' });
    return { instance: ctx.name, newKeyId: next.id, keyFile: ctx.keyFile, ...result };
  } finally {
    await storage.close();
  }
}

async function describeVariables(db: Kysely<Database>, ids: string[]): Promise<ClearedVariable[]> {
  if (!ids.length) return [];
  const rows = await db
    .selectFrom('variables')
    .innerJoin('variable_sets', 'variable_sets.id', 'variables.variable_set_id')
    .leftJoin('projects', 'projects.id', 'variable_sets.owner_id')
    .select([
      'variables.id as id',
      'variables.name as name',
      'variable_sets.owner_id as owner',
      'projects.name as project',
    ])
    .where('variables.id', 'in', ids)
    .execute();
  return rows
    .map((r) => ({ id: r.id, name: r.name, owner: r.owner, project: r.project ?? undefined }))
    .sort(
      (a, b) => (a.project ?? a.owner).localeCompare(b.project ?? b.owner) || a.name.localeCompare(b.name),
    );
}
