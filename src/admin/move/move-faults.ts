import { type Faults, NO_FAULTS } from '../../lib/faults.js';
import type { Storage } from '../../storage/storage.js';

/**
 * The database move's crash-test hooks (lib/faults.ts): besides the named points
 * (`move:after-preflight`, `move:after-copy:<table>`, ... `move:after-start`) and the rows loaded
 * per table (`move:rows:<table>`), a hook may change rows on the target, the way a faulty disk or
 * a trigger would, so a test can prove that verification catches it.
 */
export interface MoveFaults extends Faults {
  /** `table` was copied to `target`, before its check beside the copies of the next tables. */
  afterTableCopy(table: string, target: Storage): Promise<void>;
  /** Every table was copied, before the verify step. */
  beforeVerify(target: Storage): Promise<void>;
  /**
   * False when the hook changes the target in `beforeVerify`: the checks that run beside the
   * copies would pass the table before the change, so every table waits for the verify step.
   */
  readonly checksBesideCopies: boolean;
}

export const NO_MOVE_FAULTS: MoveFaults = {
  ...NO_FAULTS,
  afterTableCopy: async () => {},
  beforeVerify: async () => {},
  checksBesideCopies: true,
};
