import fs from 'node:fs';
import path from 'node:path';
import { WrongMasterKeyError } from '../../crypto/envelope.js';
import { checkPassphrase, openKeyBundle } from '../../crypto/key-bundle.js';
import { suppliedKey } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import type { CodeOfKind } from '../../lib/error-codes.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import { registerSecret } from '../../lib/redact.js';
import { META } from '../../storage/repositories/metadata-repository.js';
import { checkCanaryValue } from '../master-key-canary.js';
import type { ArchiveContents } from './backup-verify.js';

/** The passphrase is the file's content without its final line break. It is never printed. */
export function readPassphraseFile(file: string): string {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs))
    throw new PreconditionError(`The passphrase file ${abs} does not exist.`, { code: 'PATH_INVALID' });
  const passphrase = fs.readFileSync(abs, 'utf8').replace(/\r?\n$/, '');
  // checked first: a refused short passphrase registered as a secret would be masked inside
  // ordinary words of every later message ("sh***er"); the refusal does not contain it
  checkPassphrase(passphrase);
  registerSecret(passphrase);
  return passphrase;
}

/**
 * The passphrase of the instance's `configure --backup-passphrase-file`, if one is set. A file that
 * cannot be used fails with a hint that names the setting: the admin who set it months ago should
 * not have to guess why a backup reads that file.
 */
export function configuredPassphrase(
  config: { backupPassphraseFile?: string } | undefined,
): string | undefined {
  const file = config?.backupPassphraseFile;
  if (!file) return undefined;
  try {
    return readPassphraseFile(file);
  } catch (err) {
    if (!(err instanceof PreconditionError)) throw err;
    throw new PreconditionError(err.message, {
      code: err.code as CodeOfKind<'precondition'>,
      hints: [
        'The instance seals its backups with this file (`cuttle configure --backup-passphrase-file`).',
        'Put the passphrase back, configure another file, or stop with `cuttle configure --no-backup-passphrase-file`.',
      ],
    });
  }
}

export interface KeyInput {
  passphrase?: string;
  masterKeyFile?: string;
}

/** Whether the caller supplied a way to get the key: passphrase, key file or CUTTLE_MASTER_KEY. */
export function hasKeyInput(k: KeyInput): boolean {
  return !!k.passphrase || !!k.masterKeyFile || !!process.env.CUTTLE_MASTER_KEY;
}

/**
 * The archive's master key, from its key bundle (passphrase) or supplied directly, proved against
 * the canary inside the archive, before anything is written anywhere.
 */
/** What proves a key against an archive: its key bundle and canary (a verified archive, or a head). */
export type KeyEvidence = Pick<ArchiveContents, 'file' | 'keyBundle' | 'metadata'> & {
  manifest: { contents: { database: boolean } };
};

export async function archiveKey(contents: KeyEvidence, k: KeyInput): Promise<MasterKey> {
  if (k.passphrase && k.masterKeyFile) {
    throw new UsageError('Give either --passphrase-file or --master-key-file, not both.', {
      code: 'OPTIONS_CONFLICT',
    });
  }
  let key: MasterKey | undefined;
  if (k.passphrase) {
    if (!contents.keyBundle) {
      throw new PreconditionError('This archive holds no key bundle, so a passphrase cannot open it.', {
        code: 'ARCHIVE_KEY_NEEDED',
        hints: ['Supply the master key of the instance it was taken from with --master-key-file FILE.'],
      });
    }
    key = await openKeyBundle(contents.keyBundle, k.passphrase);
  } else {
    key = suppliedKey({ masterKeyFile: k.masterKeyFile });
  }
  if (!key) {
    throw new PreconditionError(
      contents.keyBundle
        ? 'The archive key bundle needs its passphrase: supply --passphrase-file FILE (or the key with --master-key-file).'
        : 'No master key supplied for an archive without a key bundle.',
      {
        code: 'ARCHIVE_KEY_NEEDED',
        hints: [
          'Without the master key the sensitive values in the archive cannot be decrypted, so nothing is restored.',
          'Supply it with --master-key-file FILE or CUTTLE_MASTER_KEY (the key `cuttle show-master-key` printed).',
        ],
      },
    );
  }
  requireArchiveCanary(contents, key);
  return key;
}

export function requireArchiveCanary(contents: KeyEvidence, key: MasterKey): void {
  if (!contents.manifest.contents.database) return;
  const r = checkCanaryValue(contents.metadata.get(META.canary), key);
  if (r.ok) return;
  if (r.reason === 'wrong-key')
    throw new WrongMasterKeyError(r.keyId ?? 'unknown', `the backup archive ${contents.file}`);
  throw new PreconditionError(
    r.reason === 'missing'
      ? `The backup archive ${contents.file} holds no master-key canary.`
      : `The master-key canary in ${contents.file} does not decrypt: the key is wrong or the archive damaged.`,
    { code: 'CANARY_MISSING' },
  );
}

/** How a key check of an archive came out, as `backup verify` and the REST verify answer it. */
export interface ArchiveKeyCheck {
  /** `ok (...)`, `FAILED: ...` or `not checked (...)`. */
  summary: string;
  /** Set when the check failed: the line for the verification's list of problems. */
  problem?: string;
}

/**
 * The archive-verify key check: does this key (the server's own), or the key the archive's
 * bundle or a key file gives, decrypt the archive's canary? Not checked on a damaged archive.
 */
export async function checkArchiveKey(
  contents: ArchiveContents,
  source: { key: MasterKey } | KeyInput,
): Promise<ArchiveKeyCheck> {
  if (contents.problems.length) return { summary: 'not checked (the archive is damaged)' };
  if (!('key' in source) && !hasKeyInput(source)) {
    return { summary: 'not checked (give --passphrase-file or --master-key-file)' };
  }
  try {
    if ('key' in source) {
      requireArchiveCanary(contents, source.key);
      return { summary: `ok (key ${source.key.id} decrypts the canary)` };
    }
    const key = await archiveKey(contents, source);
    return {
      summary: `ok (key ${key.id} decrypts the canary${source.passphrase ? ', from the key bundle' : ''})`,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { summary: `FAILED: ${message}`, problem: `key: ${message}` };
  }
}
