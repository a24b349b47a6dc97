import fs from 'node:fs';
import path from 'node:path';
import { PreconditionError } from '../lib/errors.js';
import { MasterKey } from './master-key.js';

/**
 * Where a command gets the master key from, first match wins:
 *   --master-key-file F, then CUTTLE_MASTER_KEY, then the instance's own key file (if any).
 */
export interface KeySourceOptions {
  masterKeyFile?: string;
  /** The instance's key file (absolute), when the command runs against an instance. */
  instanceKeyFile?: string;
}

export function readKeyFile(file: string): MasterKey {
  if (!fs.existsSync(file)) {
    throw new PreconditionError(`The master key file ${file} does not exist.`, {
      code: 'MASTER_KEY_MISSING',
      hints: ['Point --master-key-file at the file `cuttle show-master-key` was saved to.'],
    });
  }
  return MasterKey.parse(fs.readFileSync(file, 'utf8'), `the file ${file}`);
}

export function suppliedKey(opts: KeySourceOptions): MasterKey | undefined {
  if (opts.masterKeyFile) return readKeyFile(path.resolve(opts.masterKeyFile));
  const env = process.env.CUTTLE_MASTER_KEY;
  if (env) return MasterKey.parse(env, 'CUTTLE_MASTER_KEY');
  return undefined;
}

export function resolveKey(opts: KeySourceOptions): MasterKey | undefined {
  return (
    suppliedKey(opts) ??
    (opts.instanceKeyFile && fs.existsSync(opts.instanceKeyFile)
      ? readKeyFile(opts.instanceKeyFile)
      : undefined)
  );
}

export function writeKeyFile(file: string, key: MasterKey): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${key.toBase64()}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
