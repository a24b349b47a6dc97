import type { ErrorCode } from '../../lib/error-codes.js';

/** What `cuttle database move` was asked to do. */
export interface MoveOptions {
  to?: string;
  dryRun?: boolean;
  resume?: boolean;
  /** The user confirms the master key is saved (step 2 of the seed). */
  yes?: boolean;
  keyBundleFile?: string;
  passphraseFile?: string;
  /** Seconds to wait for running and queued tasks to finish. */
  drainTimeout?: number;
  keepMaintenance?: boolean;
  /** Tables copied at once (default 2; 1 when the target is SQLite, a single writer). */
  concurrency?: number;
  /** Who turns maintenance mode on and off (events name them). */
  actor?: string;
  /** The move's id (journal and log names); the REST API picks it so it can report progress. */
  moveId?: string;
}

/** One thing preflight found; `fix` says how to put it right. */
export interface PreflightProblem {
  check: string;
  /** The stable code of this problem; a preflight with one problem fails with this code. */
  code: ErrorCode;
  message: string;
  fix: string[];
}

export interface MovePlan {
  moveId: string;
  instance: string;
  source: { description: string; engine: string; sizeBytes?: number; schemaVersion: number };
  target: {
    description: string;
    engine?: string;
    exists: boolean;
    freeBytes?: number;
    user?: string;
  };
  keyId: string;
  resumeOf?: string;
  tables: { name: string; rows: number }[];
  steps: string[];
  warnings: string[];
  problems: PreflightProblem[];
}

export const MOVE_STEPS = [
  'preflight: target reachable, supported, privileged, empty; master key saved; free space',
  'maintenance on (instance-wide), then drain: wait for running and queued tasks',
  'stop the service on every node',
  'copy: schema through the migrations, then every table streamed and hashed',
  'verify: row counts and content hashes of every table re-read from the target',
  'cutover: instance config points at the new database (old value kept in history); old database fenced',
  'start the service again and maintenance off (unless --keep-maintenance)',
];

export function renderPlan(plan: MovePlan): string[] {
  const lines: string[] = [];
  lines.push(`Move ${plan.moveId}${plan.resumeOf ? ' (resuming)' : ''} of instance "${plan.instance}"`);
  lines.push(
    `  from  ${plan.source.description} (${plan.source.engine}, schema ${plan.source.schemaVersion}${plan.source.sizeBytes !== undefined ? `, ${mb(plan.source.sizeBytes)}` : ''})`,
  );
  lines.push(
    `  to    ${plan.target.description}${plan.target.engine ? ` (${plan.target.engine})` : ''}${plan.target.exists ? '' : ' (will be created)'}`,
  );
  lines.push(`  master key id ${plan.keyId}`);
  const total = plan.tables.reduce((s, t) => s + t.rows, 0);
  lines.push(`  ${plan.tables.length} tables, ${total.toLocaleString('en-US')} rows`);
  lines.push('Steps:');
  plan.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s}`);
  });
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines;
}

export function renderProblems(problems: PreflightProblem[]): string[] {
  const lines: string[] = [];
  for (const p of problems) {
    lines.push(`- [${p.check}] ${p.code}: ${p.message}`);
    for (const f of p.fix) lines.push(`    ${f}`);
  }
  return lines;
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}
