import fs from 'node:fs';
import path from 'node:path';
import { isArchiveName } from './archive-compression.js';
import { type ArchiveHeader, ENTRY } from './archive-format.js';
import { ArchiveReader } from './archive-reader.js';

export interface ArchiveListing {
  file: string;
  bytes: number;
  modified: string;
  /** From the archive's first entry; undefined when it cannot be read (damaged, not an archive). */
  header?: ArchiveHeader;
  complete: boolean;
}

/** The archives in a folder, newest first. Reads only each archive's first entry (fast); `verify` reads all. */
export async function listArchives(dir: string): Promise<ArchiveListing[]> {
  if (!fs.existsSync(dir)) return [];
  const out: ArchiveListing[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!isArchiveName(name.replace(/\.partial$/, ''))) continue;
    const file = path.join(dir, name);
    const st = fs.statSync(file);
    let header: ArchiveHeader | undefined;
    const reader = new ArchiveReader(file);
    try {
      const e = await reader.next();
      if (e?.name === ENTRY.header) header = JSON.parse((await reader.readBody()).toString('utf8'));
    } catch {
      header = undefined;
    } finally {
      reader.close();
    }
    out.push({
      file,
      bytes: st.size,
      modified: st.mtime.toISOString(),
      header,
      complete: !name.endsWith('.partial'),
    });
  }
  return out.sort((a, b) => (a.modified < b.modified ? 1 : -1));
}
