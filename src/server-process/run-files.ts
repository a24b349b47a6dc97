import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../config/atomic-file.js';

/**
 * The files a running node keeps in `<home>/run/`: `cuttle.pid` (its pid) and `node-state.json`
 * (pid, url, node name, start time). `cuttle service --status/--stop` read them; the node
 * removes them on exit. A file whose pid is no longer alive is stale (the node was killed).
 */
export interface NodeStateFile {
  pid: number;
  url: string;
  nodeName: string;
  instance: string;
  startedAt: string;
}

export function runDir(home: string): string {
  return path.join(home, 'run');
}

export function pidFilePath(home: string): string {
  return path.join(runDir(home), 'cuttle.pid');
}

export function stateFilePath(home: string): string {
  return path.join(runDir(home), 'node-state.json');
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(home: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFilePath(home), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a live node of this home, if there is one. */
export function runningPid(home: string): number | undefined {
  const pid = readPid(home);
  return pid && pidAlive(pid) ? pid : undefined;
}

export function readNodeState(home: string): NodeStateFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFilePath(home), 'utf8')) as NodeStateFile;
  } catch {
    return undefined;
  }
}

export function writePidFile(home: string, pid: number): void {
  fs.mkdirSync(runDir(home), { recursive: true });
  writeFileAtomic(pidFilePath(home), `${pid}\n`);
}

export function writeNodeState(home: string, state: NodeStateFile): void {
  fs.mkdirSync(runDir(home), { recursive: true });
  writeFileAtomic(stateFilePath(home), `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes the files only if they are still ours (a newer node may have replaced them). */
export function removeRunFiles(home: string, pid: number): void {
  if (readPid(home) !== pid) return;
  fs.rmSync(stateFilePath(home), { force: true });
  fs.rmSync(pidFilePath(home), { force: true });
}
