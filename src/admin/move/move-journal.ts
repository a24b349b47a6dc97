import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { readJsonFile, writeFileAtomic } from '../../config/atomic-file.js';
import type { ConnectionTarget } from '../../config/connection-string.js';
import { openConnection, type StoredConnection, sealConnection } from '../../config/instance-config.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { nowIso } from '../../lib/clock.js';
import { type ErrorKind, PreconditionError } from '../../lib/errors.js';
import { deleteMeta, getMeta, setMeta } from '../../storage/repositories/metadata-repository.js';
import type { Database } from '../../storage/schema/database-types.js';
import type { ReadOrder } from '../../storage/table-reader.js';

/**
 * The journal of one move: `<home>/moves/<moveId>.json`, rewritten atomically after every state
 * change, so a move killed at any instant resumes from the last completed fact. Connection strings
 * are stored as the instance config stores them (password sealed with the master key).
 *
 * Phases run in this order; `cutover` is the point of no return: before it the source is untouched
 * (but for the maintenance flag), from it on --resume only ever finishes the move.
 */
export const PHASES = [
  'preflight',
  'maintenance',
  'drain',
  'copy',
  'verify',
  'cutover',
  'start',
  'done',
] as const;
export type MovePhase = (typeof PHASES)[number];

/** A move id: `move-<UTC stamp>-<hex>` as newMoveId makes it (the REST API and --move-id check it). */
const MOVE_ID_PATTERN = /^move-[A-Za-z0-9-]{1,80}$/;

export function isMoveId(id: string): boolean {
  return MOVE_ID_PATTERN.test(id);
}

export type TableState = 'pending' | 'copying' | 'copied';

export interface TableJournal {
  state: TableState;
  rows?: number;
  bytes?: number;
  /** Over the rows in the order they were streamed (`order`). */
  sha256?: string;
  /**
   * The order the source was read in (table-reader.ts): `natural` where the target reads a
   * freshly loaded table back in load order, `key` otherwise. Absent in journals of Cuttle 0.2.0,
   * which always read in key order.
   */
  order?: ReadOrder;
  seconds?: number;
  verified?: boolean;
}

/** Why a move stopped (move-failure.ts makes it from the error). */
export interface MoveFailure {
  /** The phase the move was in. */
  phase: MovePhase;
  message: string;
  /** The error's kind (lib/errors.ts), which gives the exit code and the HTTP status. */
  kind: ErrorKind;
  /** The error's stable code, when it has one. */
  code?: string;
  at: string;
}

export interface MoveJournal {
  format: 'cuttle-move-journal/1';
  moveId: string;
  instance: string;
  created: string;
  updated: string;
  phase: MovePhase;
  /** The message of the error the move stopped on (as Cuttle 0.3 wrote it); see `failure`. */
  failed?: string;
  /** Set when the move stopped on an error (it can be resumed unless phase is 'done'). */
  failure?: MoveFailure;
  /** The process running the move (each run, a resume too, records itself). */
  runner?: { pid: number; started: string };
  source: StoredConnection;
  sourceDescription: string;
  target: StoredConnection;
  targetDescription: string;
  /** The target held no table when preflight looked: anything there now is this move's work. */
  targetWasEmpty: boolean;
  schemaCreated: boolean;
  maintenance: { setByMove: boolean; onAt?: string; offAt?: string };
  service: { wasRunning: boolean; pid?: number; restarted?: boolean };
  tables: Record<string, TableJournal>;
  cutover: { configWritten?: string; fenced?: string };
  finished?: string;
}

export const TARGET_MARKER_KEY = 'move-in-progress';

export function movesDir(home: string): string {
  return path.join(home, 'moves');
}

export function journalPath(home: string, moveId: string): string {
  return path.join(movesDir(home), `${moveId}.json`);
}

export function newMoveId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `move-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function newJournal(input: {
  moveId: string;
  instance: string;
  source: ConnectionTarget;
  sourceDescription: string;
  target: ConnectionTarget;
  targetDescription: string;
  targetWasEmpty: boolean;
  key: MasterKey;
  tables: string[];
}): MoveJournal {
  const now = nowIso();
  return {
    format: 'cuttle-move-journal/1',
    moveId: input.moveId,
    instance: input.instance,
    created: now,
    updated: now,
    phase: 'preflight',
    source: sealConnection(input.source, input.key),
    sourceDescription: input.sourceDescription,
    target: sealConnection(input.target, input.key),
    targetDescription: input.targetDescription,
    targetWasEmpty: input.targetWasEmpty,
    schemaCreated: false,
    maintenance: { setByMove: false },
    service: { wasRunning: false },
    tables: Object.fromEntries(input.tables.map((t) => [t, { state: 'pending' as TableState }])),
    cutover: {},
  };
}

/** Writes the journal atomically (a crash leaves the previous or the new version, never half). */
export class JournalStore {
  constructor(
    readonly file: string,
    public journal: MoveJournal,
  ) {}

  save(): void {
    this.journal.updated = nowIso();
    writeFileAtomic(this.file, `${JSON.stringify(this.journal, null, 2)}\n`, 0o600);
  }

  update(fn: (j: MoveJournal) => void): void {
    fn(this.journal);
    this.save();
  }

  table(name: string): TableJournal {
    const t = this.journal.tables[name];
    if (!t) throw new Error(`The journal has no entry for table ${name}`);
    return t;
  }
}

export function loadJournal(file: string): MoveJournal {
  let j: MoveJournal;
  try {
    j = readJsonFile<MoveJournal>(file);
  } catch {
    throw new PreconditionError(`The move journal ${file} cannot be read.`, { code: 'MOVE_JOURNAL_INVALID' });
  }
  if (j.format !== 'cuttle-move-journal/1') {
    throw new PreconditionError(`${file} is not a Cuttle move journal.`, { code: 'MOVE_JOURNAL_INVALID' });
  }
  return j;
}

/** Journals of moves that did not finish, newest first. */
export function unfinishedJournals(home: string): { file: string; journal: MoveJournal }[] {
  const dir = movesDir(home);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && isMoveId(f.slice(0, -'.json'.length)))
    .map((f) => {
      const file = path.join(dir, f);
      try {
        return { file, journal: loadJournal(file) };
      } catch {
        return undefined;
      }
    })
    .filter((x): x is { file: string; journal: MoveJournal } => !!x && x.journal.phase !== 'done')
    .sort((a, b) => b.journal.created.localeCompare(a.journal.created));
}

export function journalTargets(
  j: MoveJournal,
  key: MasterKey,
  home: string,
): { source: ConnectionTarget; target: ConnectionTarget } {
  return { source: openConnection(j.source, key, home), target: openConnection(j.target, key, home) };
}

export function phaseIndex(p: MovePhase): number {
  return PHASES.indexOf(p);
}

/** The target's marker row: says "a move is being copied into me", with its id. */
export async function readTargetMarker(db: Kysely<Database>): Promise<string | undefined> {
  const v = await getMeta(db, TARGET_MARKER_KEY);
  if (!v) return undefined;
  try {
    return (JSON.parse(v) as { moveId?: string }).moveId;
  } catch {
    return undefined;
  }
}

export async function writeTargetMarker(db: Kysely<Database>, moveId: string, from: string): Promise<void> {
  await setMeta(db, TARGET_MARKER_KEY, JSON.stringify({ moveId, from, started: nowIso() }));
}

export async function deleteTargetMarker(db: Kysely<Database>): Promise<void> {
  await deleteMeta(db, TARGET_MARKER_KEY);
}
