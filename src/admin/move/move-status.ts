import fs from 'node:fs';
import { NotFoundError } from '../../lib/errors.js';
import { redactText } from '../../lib/redact.js';
import { pidAlive } from '../../server-process/run-files.js';
import {
  type LaunchRecord,
  launchedMoveIds,
  moveLogPath,
  readEarlyFailure,
  readLaunchRecord,
} from './launch-record.js';
import { journalFailure, processEnded } from './move-failure.js';
import {
  isMoveId,
  journalPath,
  loadJournal,
  type MoveFailure,
  type MoveJournal,
  type MovePhase,
  movesDir,
} from './move-journal.js';

export type MoveState = 'executing' | 'success' | 'failed';

/** A move as its journal (and, for a move started in the background, its launch record) tells it. */
export interface MoveStatus {
  moveId: string;
  state: MoveState;
  /** The journal's phase; `preflight` while a launched move has no journal yet. */
  phase: MovePhase | null;
  /** Why it failed: recorded by the move, or (its process gone without a word) made up here. */
  failure?: MoveFailure;
  source?: string;
  target: string;
  started: string;
  finished?: string;
  /** The process running the move, while it runs. */
  pid?: number;
  launched: boolean;
  tables: { copied: number; verified: number; total: number; rowsCopied: number };
  maintenance: { onAt?: string; offAt?: string };
  service: { wasRunning: boolean; restarted: boolean };
  logFile?: string;
}

/**
 * The state of a move, read from its journal, never from its log: `success` once the journal says
 * done, `failed` when it records a failure, `executing` while its process lives, and `failed`
 * (MOVE_PROCESS_ENDED, naming the phase) when the process is gone without either.
 */
export function moveStatus(home: string, moveId: string): MoveStatus {
  if (!isMoveId(moveId))
    throw new NotFoundError(`There is no database move ${moveId}.`, { code: 'MOVE_NOT_FOUND' });
  const launch = readLaunchRecord(home, moveId);
  const file = journalPath(home, moveId);
  const journal = fs.existsSync(file) ? loadJournal(file) : undefined;
  if (!launch && !journal)
    throw new NotFoundError(`There is no database move ${moveId}.`, { code: 'MOVE_NOT_FOUND' });
  return statusOf(home, moveId, journal, launch);
}

/** Every move of this home (journals, and launches that never got one), newest first. */
export function listMoves(home: string): MoveStatus[] {
  const ids = new Set(launchedMoveIds(home));
  const dir = movesDir(home);
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) {
      const id = f.endsWith('.json') ? f.slice(0, -'.json'.length) : '';
      if (isMoveId(id)) ids.add(id);
    }
  }
  const all: MoveStatus[] = [];
  for (const id of ids) {
    try {
      all.push(moveStatus(home, id));
    } catch {
      // a journal that cannot be read is not a move this list can show
    }
  }
  return all.sort((a, b) => b.started.localeCompare(a.started) || b.moveId.localeCompare(a.moveId));
}

/** The last `n` lines of a launched move's output, redacted (for people; the state never comes from it). */
export function moveLogTail(home: string, moveId: string, n: number): string[] {
  const file = moveLogPath(home, moveId);
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).map(redactText);
}

function statusOf(
  home: string,
  moveId: string,
  journal: MoveJournal | undefined,
  launch: LaunchRecord | undefined,
): MoveStatus {
  const pid = journal?.runner?.pid ?? launch?.pid;
  const running = pid !== undefined && pidAlive(pid);
  const phase: MovePhase | null = journal?.phase ?? (launch ? 'preflight' : null);
  let state: MoveState;
  let failure: MoveFailure | undefined;
  // done in the journal, but the process still writes its last lines (the summary) to the log:
  // a reader told "completed" must find them there
  if (journal?.phase === 'done') state = running && pid !== process.pid ? 'executing' : 'success';
  else {
    failure = journal ? journalFailure(journal) : readEarlyFailure(home, moveId);
    if (failure) state = 'failed';
    else if (running) state = 'executing';
    else {
      state = 'failed';
      failure = processEnded(phase ?? 'preflight', journal?.updated ?? launch?.started ?? '');
    }
  }
  const tables = Object.values(journal?.tables ?? {});
  return {
    moveId,
    state,
    phase,
    failure,
    source: journal?.sourceDescription,
    target: journal?.targetDescription ?? launch?.target ?? '',
    started: launch?.started ?? journal?.created ?? '',
    finished: journal?.finished,
    pid: running ? pid : undefined,
    launched: !!launch,
    tables: {
      copied: tables.filter((t) => t.state === 'copied').length,
      verified: tables.filter((t) => t.verified).length,
      total: tables.length,
      rowsCopied: tables.reduce((a, t) => a + (t.state === 'copied' ? (t.rows ?? 0) : 0), 0),
    },
    maintenance: { onAt: journal?.maintenance.onAt, offAt: journal?.maintenance.offAt },
    service: { wasRunning: !!journal?.service.wasRunning, restarted: !!journal?.service.restarted },
    logFile: launch ? moveLogPath(home, moveId) : undefined,
  };
}
