import type { Engine } from '../../src/config/connection-string.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { type TestDatabase, testDatabase } from '../helpers/engines.js';

export interface TestStorage {
  storage: Storage;
  db: TestDatabase;
  /** A second connection pool to the same database: another node. */
  another(): Promise<Storage>;
  close(): Promise<void>;
}

/** A fresh database with the schema, for one test file. */
export async function openTestStorage(engine: Engine, label: string): Promise<TestStorage> {
  const db = testDatabase(engine, label);
  const storage = await openStorage(db.target, { create: true });
  await migrateToLatest(storage);
  const extra: Storage[] = [];
  return {
    storage,
    db,
    async another() {
      const s = await openStorage(db.target);
      extra.push(s);
      return s;
    },
    async close() {
      for (const s of extra) await s.close();
      await storage.close();
      await db.drop();
    },
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
