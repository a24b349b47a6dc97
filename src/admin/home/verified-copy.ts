import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readJsonFile, writeFileAtomic } from '../../config/atomic-file.js';
import { PreconditionError, RuntimeFailure } from '../../lib/errors.js';
import { type Faults, NO_FAULTS } from '../../lib/faults.js';
import type { ProgressReporter } from '../../lib/progress.js';

/**
 * Copies a folder tree so that every file is proved identical (size and SHA-256) before anyone
 * relies on the copy. A journal in the target records each finished file, so a killed copy
 * started again skips what is done; each file is written under a temporary name and renamed, so
 * a half-written file never carries its real name. The source is only read.
 */
export interface CopyJournal {
  format: 'cuttle-copy-journal/1';
  from: string;
  to: string;
  started: string;
  state: 'copying' | 'verified' | 'config-written' | 'switched';
  files: Record<string, { size: number; mtimeMs: number; sha256: string }>;
}

export interface CopyPlan {
  from: string;
  to: string;
  journalFile: string;
  /** Relative paths (with "/") to leave out; a folder's whole content is left out with it. */
  exclude?: (rel: string, isDir: boolean) => boolean;
  progress: ProgressReporter;
  step: string;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface CopyResult {
  journal: CopyJournal;
  files: number;
  bytes: number;
  dirs: string[];
}

const TMP_SUFFIX = '.cuttle-copy-tmp';

interface SourceEntry {
  rel: string;
  size: number;
  mtimeMs: number;
}

export function listTree(
  root: string,
  exclude?: CopyPlan['exclude'],
): { files: SourceEntry[]; dirs: string[] } {
  const files: SourceEntry[] = [];
  const dirs: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (exclude?.(r, d.isDirectory())) continue;
      if (d.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else if (d.isFile()) {
        const st = fs.statSync(path.join(root, r));
        files.push({ rel: r, size: st.size, mtimeMs: st.mtimeMs });
      } else {
        throw new PreconditionError(`${path.join(root, r)} is not a plain file or folder (a link?).`, {
          code: 'PATH_INVALID',
          hints: ['Move or remove it by hand, then run the command again.'],
        });
      }
    }
  };
  if (fs.existsSync(root)) walk('');
  return { files, dirs };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

function loadJournal(plan: CopyPlan): CopyJournal {
  if (fs.existsSync(plan.journalFile)) {
    const j = readJsonFile<CopyJournal>(plan.journalFile);
    if (j.from !== plan.from) {
      throw new PreconditionError(
        `${plan.to} holds an unfinished copy from ${j.from}, not from ${plan.from}.`,
        {
          code: 'FOLDER_NOT_EMPTY',
          hints: [`Finish that move first, or remove ${plan.to} if it is not needed.`],
        },
      );
    }
    return j;
  }
  return {
    format: 'cuttle-copy-journal/1',
    from: plan.from,
    to: plan.to,
    started: new Date().toISOString(),
    state: 'copying',
    files: {},
  };
}

export function saveJournal(file: string, j: CopyJournal): void {
  writeFileAtomic(file, `${JSON.stringify(j)}\n`);
}

async function copyOne(src: string, dst: string): Promise<string> {
  const tmp = dst + TMP_SUFFIX;
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const h = createHash('sha256');
  const out = fs.createWriteStream(tmp);
  await pipeline(
    fs.createReadStream(src),
    async function* (source) {
      for await (const chunk of source) {
        h.update(chunk as Buffer);
        yield chunk;
      }
    },
    out,
  );
  const fd = fs.openSync(tmp, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, fs.statSync(src).mode & 0o7777);
  fs.renameSync(tmp, dst);
  return h.digest('hex');
}

export async function verifiedCopy(plan: CopyPlan): Promise<CopyResult> {
  const { files, dirs } = listTree(plan.from, plan.exclude);
  const total = files.reduce((n, f) => n + f.size, 0);
  fs.mkdirSync(plan.to, { recursive: true });
  const journal = loadJournal(plan);
  journal.state = 'copying';
  saveJournal(plan.journalFile, journal);
  for (const d of dirs) fs.mkdirSync(path.join(plan.to, d), { recursive: true });
  for (const t of listTree(plan.to).files) {
    if (t.rel.endsWith(TMP_SUFFIX)) fs.rmSync(path.join(plan.to, t.rel));
  }

  const faults = plan.faults ?? NO_FAULTS;
  let copied = 0;
  let done = 0;
  let lastSave = Date.now();
  plan.progress.update({ step: `${plan.step}:copy`, done, total, unit: 'bytes' });
  for (const f of files) {
    const dst = path.join(plan.to, f.rel);
    const known = journal.files[f.rel];
    const current = known && known.size === f.size && known.mtimeMs === f.mtimeMs && fs.existsSync(dst);
    if (!current) {
      const sha256 = await copyOne(path.join(plan.from, f.rel), dst);
      journal.files[f.rel] = { size: f.size, mtimeMs: f.mtimeMs, sha256 };
      copied++;
      faults.afterFileCopy(dst);
      if (Date.now() - lastSave > 1000) {
        saveJournal(plan.journalFile, journal);
        lastSave = Date.now();
      }
      faults.progressed('home:files', copied);
    }
    done += f.size;
    plan.progress.update({ step: `${plan.step}:copy`, done, total, unit: 'bytes' });
  }
  const present = new Set(files.map((f) => f.rel));
  for (const rel of Object.keys(journal.files)) if (!present.has(rel)) delete journal.files[rel];
  saveJournal(plan.journalFile, journal);
  plan.progress.update({ step: `${plan.step}:copy`, done, total, unit: 'bytes', state: 'done' });

  const bad: string[] = [];
  let checked = 0;
  for (const f of files) {
    const j = journal.files[f.rel]!;
    const dst = path.join(plan.to, f.rel);
    const st = fs.existsSync(dst) ? fs.statSync(dst) : undefined;
    const srcNow = fs.statSync(path.join(plan.from, f.rel));
    const ok =
      st !== undefined &&
      st.size === j.size &&
      srcNow.size === j.size &&
      srcNow.mtimeMs === j.mtimeMs &&
      (await sha256File(dst)) === j.sha256;
    if (!ok) {
      bad.push(f.rel);
      delete journal.files[f.rel];
      fs.rmSync(dst, { force: true });
    }
    checked += f.size;
    plan.progress.update({ step: `${plan.step}:verify`, done: checked, total, unit: 'bytes' });
  }
  if (bad.length) {
    saveJournal(plan.journalFile, journal);
    plan.progress.update({ step: `${plan.step}:verify`, state: 'failed' });
    throw new RuntimeFailure(
      `${bad.length} copied file(s) in ${plan.to} do not match the original (size or SHA-256); nothing was switched.`,
      {
        code: 'COPY_VERIFY_FAILED',
        details: bad.slice(0, 20),
        hints: [
          `The original at ${plan.from} is untouched and still in use.`,
          'Run the same command again to copy those files again; check the target disk if it keeps failing.',
        ],
      },
    );
  }
  journal.state = 'verified';
  saveJournal(plan.journalFile, journal);
  plan.progress.update({ step: `${plan.step}:verify`, done: checked, total, unit: 'bytes', state: 'done' });
  return { journal, files: files.length, bytes: total, dirs };
}

/**
 * Removes the files a verified copy took from the source (still the same size), then the folders
 * left empty. Anything else found there stays, and is returned.
 */
export function removeCopiedSource(from: string, journal: CopyJournal, alsoRemove: string[] = []): string[] {
  for (const [rel, f] of Object.entries(journal.files)) {
    const p = path.join(from, rel);
    try {
      if (fs.statSync(p).size === f.size) fs.rmSync(p);
    } catch {
      // already gone
    }
  }
  for (const rel of alsoRemove) fs.rmSync(path.join(from, rel), { recursive: true, force: true });
  const leftovers: string[] = [];
  const prune = (dir: string): boolean => {
    let empty = true;
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory() && prune(p)) continue;
      if (!d.isDirectory()) leftovers.push(p);
      empty = false;
    }
    if (empty) fs.rmdirSync(dir);
    return empty;
  };
  if (fs.existsSync(from)) prune(from);
  return leftovers;
}
