/**
 * Hooks for crash tests. Long operations (database move, home move, master-key change) call
 * them at the points where a crash must be survivable; a crash test's hook ends the process there
 * with SIGKILL (no finally blocks, no exit handlers, as a power cut would) or damages what was just
 * written, so the test can prove that a resume, or the verification, copes.
 *
 * Production code only ever uses `NO_FAULTS`: an operation takes the hooks from its options and
 * falls back to it. The one place that may hand over others is the CLI's composition root
 * (`cli/entry.ts`), which takes them from the `FAULTS_GLOBAL` slot a test preload fills
 * (`test/helpers/fault-preload.ts`); no production module reads a fault setting of any kind.
 */
export interface Faults {
  /**
   * A named point was reached (`rotate:before-commit`, `home:before-registry`,
   * `move:after-copy:events`, ...).
   */
  at(point: string): void;
  /**
   * Work counted so far in a step (`home:files` copied, `move:rows:<table>` loaded), reported
   * as it grows; a hook may end the process once the count reaches the number it waits for.
   */
  progressed(step: string, count: number): void;
  /** A verified copy wrote `file`; a hook may change a byte of it before the copy is checked. */
  afterFileCopy(file: string): void;
}

export const NO_FAULTS: Faults = {
  at() {},
  progressed() {},
  afterFileCopy() {},
};

/** Where a test preload leaves its hooks for the CLI entry: `globalThis[FAULTS_GLOBAL]`. */
export const FAULTS_GLOBAL = Symbol.for('cuttle.faults');
