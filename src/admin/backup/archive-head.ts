import type { KeyBundle } from '../../crypto/key-bundle.js';
import { type ArchiveHeader, ENTRY, type PortableConfig, tableOfEntry } from './archive-format.js';
import { ArchiveReader } from './archive-reader.js';
import { ArchiveChecker } from './backup-verify.js';

/**
 * The first entries of a keyFirst archive (ArchiveHeader.keyFirst): header, key bundle, config and
 * instance_metadata's rows (with the master-key canary). Read without the rest of the archive, so a
 * restore proves the key and plans the load from a few kilobytes. Nothing here is trusted yet: the
 * single-pass restore reads the same entries again and checks them against the manifest.
 */
export interface ArchiveHead {
  file: string;
  header: ArchiveHeader;
  keyBundle?: KeyBundle;
  config?: PortableConfig;
  metadata: Map<string, string>;
  /** For archiveKey: what the archive says it holds. */
  manifest: { contents: { database: boolean } };
}

/** The head of a keyFirst archive, or undefined for any other archive (or one that cannot be read). */
export async function readArchiveHead(file: string): Promise<ArchiveHead | undefined> {
  const reader = new ArchiveReader(file, { checksum: false });
  const checker = new ArchiveChecker(file);
  let header: ArchiveHeader | undefined;
  const blobs = new Map<string, Buffer>();
  try {
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      checker.entry(entry.name);
      if (entry.name === ENTRY.header) {
        header = JSON.parse((await reader.readBody()).toString('utf8')) as ArchiveHeader;
        if (!header.keyFirst) return undefined;
      } else if (entry.name === ENTRY.keyBundle || entry.name === ENTRY.config) {
        blobs.set(entry.name, await reader.readBody());
      } else if (tableOfEntry(entry.name) === 'instance_metadata') {
        checker.tableChunk(entry.name, await reader.readBody());
      } else break;
    }
  } catch {
    return undefined; // the full verification says what is wrong
  } finally {
    reader.close();
  }
  if (!header?.keyFirst || !header.contents) return undefined;
  const parse = <T>(name: string): T | undefined => {
    const b = blobs.get(name);
    return b ? (JSON.parse(b.toString('utf8')) as T) : undefined;
  };
  try {
    return {
      file,
      header,
      keyBundle: parse<KeyBundle>(ENTRY.keyBundle),
      config: parse<PortableConfig>(ENTRY.config),
      metadata: checker.metadata,
      manifest: { contents: { database: header.contents.database } },
    };
  } catch {
    return undefined;
  }
}
