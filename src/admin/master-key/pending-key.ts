import fs from 'node:fs';
import { PreconditionError } from '../../lib/errors.js';

/** Files of a master key switch (key-switch.ts), kept apart so instance-context can check for them. */
export function pendingKeyFile(keyFile: string): string {
  return `${keyFile}.next`;
}

export function previousKeyFile(keyFile: string, keyId: string): string {
  return `${keyFile}.previous-${keyId}`;
}

/** Refuses to use an instance whose key switch was interrupted (called by loadInstance). */
export function assertNoPendingKeySwitch(keyFile: string, instanceName: string): void {
  if (!fs.existsSync(pendingKeyFile(keyFile))) return;
  throw new PreconditionError(`A master key change for instance "${instanceName}" was interrupted.`, {
    code: 'KEY_CHANGE_INTERRUPTED',
    details: [`${pendingKeyFile(keyFile)} is still there.`],
    hints: [
      `Finish it (or roll it back, whichever is right): cuttle rotate-master-key --resume --instance ${instanceName}`,
    ],
  });
}
