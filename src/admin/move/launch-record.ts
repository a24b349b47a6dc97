import fs from 'node:fs';
import path from 'node:path';
import { readJsonFile, writeFileAtomic } from '../../config/atomic-file.js';
import { type MoveFailure, movesDir } from './move-journal.js';

/**
 * A move started in the background (move-launcher.ts) leaves two files beside its journal, each
 * with one writer, so neither needs a lock:
 * - `<id>.launch.json`, written by the launcher once the process runs: its pid and target;
 * - `<id>.failed.json`, written by the move process when it fails before its journal exists
 *   (preflight), so the failure is known without reading the log.
 * The output goes to `<home>/logs/<id>.log`.
 */
export interface LaunchRecord {
  moveId: string;
  pid: number;
  started: string;
  /** The target, described (password as ***). */
  target: string;
}

function launchRecordPath(home: string, moveId: string): string {
  return path.join(movesDir(home), `${moveId}.launch.json`);
}

/** Where Cuttle 0.3 kept the launch record. */
function legacyLaunchRecordPath(home: string, moveId: string): string {
  return path.join(home, 'logs', `${moveId}.json`);
}

export function moveLogPath(home: string, moveId: string): string {
  return path.join(home, 'logs', `${moveId}.log`);
}

function earlyFailurePath(home: string, moveId: string): string {
  return path.join(movesDir(home), `${moveId}.failed.json`);
}

export function writeLaunchRecord(home: string, record: LaunchRecord): void {
  writeFileAtomic(launchRecordPath(home, record.moveId), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

export function readLaunchRecord(home: string, moveId: string): LaunchRecord | undefined {
  for (const file of [launchRecordPath(home, moveId), legacyLaunchRecordPath(home, moveId)]) {
    if (!fs.existsSync(file)) continue;
    try {
      return readJsonFile<LaunchRecord>(file);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Ids of the moves launched from this home (newest launcher format and Cuttle 0.3's). */
export function launchedMoveIds(home: string): string[] {
  const ids: string[] = [];
  const dir = movesDir(home);
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.launch.json')) ids.push(f.slice(0, -12));
  }
  const logs = path.join(home, 'logs');
  if (fs.existsSync(logs)) {
    for (const f of fs.readdirSync(logs)) if (/^move-.*\.json$/.test(f)) ids.push(f.slice(0, -5));
  }
  return ids;
}

/** Records why a launched move stopped before it had a journal (a move run in a terminal says it there). */
export function recordEarlyFailure(home: string, moveId: string, failure: MoveFailure): void {
  writeFileAtomic(earlyFailurePath(home, moveId), `${JSON.stringify(failure, null, 2)}\n`, 0o600);
}

export function readEarlyFailure(home: string, moveId: string): MoveFailure | undefined {
  const file = earlyFailurePath(home, moveId);
  if (!fs.existsSync(file)) return undefined;
  try {
    return readJsonFile<MoveFailure>(file);
  } catch {
    return undefined;
  }
}
