import { type MoveFaults, NO_MOVE_FAULTS } from '../admin/move/move-faults.js';

/**
 * What the composition root (entry.ts) hands the command modules besides the arguments. Today
 * only the crash-test hooks (lib/faults.ts): `NO_MOVE_FAULTS` unless a test preload put others in
 * place; commands pass them on to the operations that take them.
 */
export interface CliContext {
  faults: MoveFaults;
}

export const DEFAULT_CLI_CONTEXT: CliContext = { faults: NO_MOVE_FAULTS };
