import { nowIso } from '../../lib/clock.js';
import { CuttleError } from '../../lib/errors.js';
import type { MoveFailure, MoveJournal, MovePhase } from './move-journal.js';

/** What the journal records about the error a move stopped on in `phase`. */
export function failureOf(err: unknown, phase: MovePhase): MoveFailure {
  const message = err instanceof Error ? err.message : String(err);
  const kind = err instanceof CuttleError ? err.kind : 'runtime';
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return { phase, message, kind, ...(typeof code === 'string' ? { code } : {}), at: nowIso() };
}

/** The journal's failure; a journal of Cuttle 0.3 holds only the message. */
export function journalFailure(j: MoveJournal): MoveFailure | undefined {
  if (j.failure) return j.failure;
  if (j.failed) return { phase: j.phase, message: j.failed, kind: 'runtime', at: j.updated };
  return undefined;
}

/** A move whose process is gone although its journal neither finished nor recorded an error. */
export function processEnded(phase: MovePhase, at: string): MoveFailure {
  return {
    phase,
    message: `The move process ended during ${phase} without finishing; \`cuttle database move --resume\` continues it.`,
    kind: 'runtime',
    code: 'MOVE_PROCESS_ENDED',
    at,
  };
}
