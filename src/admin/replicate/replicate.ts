import path from 'node:path';
import { parseConnectionString } from '../../config/connection-string.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { getMeta, META } from '../../storage/repositories/metadata-repository.js';
import { hasKeyInput } from '../backup/backup-key.js';
import { type RestoreResult, restoreBackup } from '../backup/backup-restore.js';
import { configureInstance } from '../configure.js';
import { loadInstance, openInstanceStorage } from '../instance-context.js';
import { rotateMasterKey } from '../master-key/rotate-master-key.js';
import { makeReplica, type ReplicaChanges, type ReplicaMarker } from './make-replica.js';

export interface ReplicateInput {
  archive: string;
  instance: string;
  home: string;
  storageConnectionString: string;
  passphrase?: string;
  masterKeyFile?: string;
  newMasterKey?: boolean;
  scrubPersonalData?: boolean;
  listen?: string;
  progress?: ProgressReporter;
}

export interface ReplicateResult {
  instance: string;
  configFile: string;
  restore: RestoreResult;
  changes: ReplicaChanges;
  masterKey: { rotated: boolean; keyId: string; previousKeyId?: string };
}

/**
 * `cuttle replicate`: a test copy of an instance from a backup archive, made safe to run beside
 * production. The restore is the backup engineer's (verified, into an empty database); then
 * make-replica.ts changes identities and switches off what reaches outside; then, with
 * --new-master-key, every sealed value is re-encrypted (the rotation's one transaction), so the
 * production key opens nothing in the replica.
 */
export async function replicate(input: ReplicateInput): Promise<ReplicateResult> {
  const progress = input.progress ?? silentProgress;
  const key = { passphrase: input.passphrase, masterKeyFile: input.masterKeyFile };
  if (!hasKeyInput(key)) {
    throw new UsageError(
      'replicate needs the key of the archive: --passphrase-file F or --master-key-file F.',
      { code: 'OPTION_MISSING' },
    );
  }
  const restore = await restoreBackup({
    archive: path.resolve(input.archive),
    target: parseConnectionString(input.storageConnectionString),
    key,
    instance: input.instance,
    home: input.home,
    progress,
  });
  if (!restore.instance)
    throw new PreconditionError('The restore created no instance.', { code: 'REPLICA_FAILED' });
  try {
    let inst = loadInstance({ instance: input.instance });
    const storage = await openInstanceStorage(inst);
    let changes: ReplicaChanges;
    try {
      const marker: ReplicaMarker = {
        from: {
          archive: path.resolve(input.archive),
          instanceId: (await getMeta(storage.db, META.instanceId)) ?? null,
        },
        created: new Date().toISOString(),
        newMasterKey: !!input.newMasterKey,
        scrubbedPersonalData: !!input.scrubPersonalData,
      };
      changes = await makeReplica(storage.db, marker, { scrubPersonalData: input.scrubPersonalData });
    } finally {
      await storage.close();
    }
    progress.update({
      step: 'make-replica',
      state: 'done',
      message: 'new ids, nodes cleared, outside links off',
    });
    if (input.listen) await configureInstance(inst, { listen: input.listen });
    const previousKeyId = inst.key.id;
    let rotated = false;
    if (input.newMasterKey) {
      await rotateMasterKey({ instance: input.instance, progress });
      rotated = true;
    }
    inst = loadInstance({ instance: input.instance });
    return {
      instance: input.instance,
      configFile: restore.instance.configFile,
      restore,
      changes,
      masterKey: { rotated, keyId: inst.key.id, previousKeyId: rotated ? previousKeyId : undefined },
    };
  } catch (err) {
    throw new PreconditionError(
      `The archive was restored as instance "${input.instance}", but making it a safe replica failed: do not start it.`,
      {
        code: 'REPLICA_FAILED',
        cause: err,
        details: [err instanceof Error ? err.message : String(err)],
        hints: [
          `Remove it (cuttle delete-instance --instance ${input.instance}, drop its database) and run replicate again.`,
        ],
      },
    );
  }
}
