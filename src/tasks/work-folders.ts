import fs from 'node:fs';
import path from 'node:path';

/**
 * The work folders of steps: `<home>/work/<task>/<action>`, the current folder of the step's
 * script. What a script leaves there may hold what it was given (sensitive values included), so a
 * folder lives only as long as its step: removed when the step ends, kept only for a failed step
 * when the instance is configured to (`configure --keep-work-folders true`), and then marked and
 * given a copy of the script with its sensitive values masked. Leftovers of a node that died are
 * swept when the node starts.
 */
const KEPT_MARKER = '.kept-for-troubleshooting';

export function workFolderFor(home: string, taskId: string, activityId: string): string {
  return path.join(home, 'work', taskId, activityId);
}

export interface StepEnd {
  failed: boolean;
  keep: boolean;
  /** The script as run, with sensitive values masked (written into a kept folder only). */
  maskedScript: string;
  scriptName: string;
}

/** Removes a step's work folder, or keeps a failed one (marked, with the masked script). */
export function finishWorkFolder(dir: string, end: StepEnd): 'removed' | 'kept' {
  if (end.failed && end.keep) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${end.scriptName}.masked`), end.maskedScript, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, KEPT_MARKER), `${new Date().toISOString()}\n`);
    return 'kept';
  }
  fs.rmSync(dir, { recursive: true, force: true });
  // the task's folder goes with its last step folder
  const taskDir = path.dirname(dir);
  try {
    fs.rmdirSync(taskDir);
  } catch {
    // other steps' folders are still there (or it is gone already)
  }
  return 'removed';
}

/** At node start no step of this node runs: every work folder not kept on purpose goes. */
export function sweepWorkFolders(home: string): number {
  const root = path.join(home, 'work');
  if (!fs.existsSync(root)) return 0;
  let removed = 0;
  for (const task of fs.readdirSync(root)) {
    const taskDir = path.join(root, task);
    if (!fs.statSync(taskDir).isDirectory()) continue;
    for (const step of fs.readdirSync(taskDir)) {
      const stepDir = path.join(taskDir, step);
      if (fs.existsSync(path.join(stepDir, KEPT_MARKER))) continue;
      fs.rmSync(stepDir, { recursive: true, force: true });
      removed++;
    }
    if (fs.readdirSync(taskDir).length === 0) fs.rmdirSync(taskDir);
  }
  return removed;
}
