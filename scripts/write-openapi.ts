/**
 * Writes docs/openapi.json from the routes' own schemas (npm run openapi). The document is
 * committed so API changes show up in review diffs; the server serves the same document live
 * at /api/openapi.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MasterKey } from '../src/crypto/master-key.js';
import { buildServer } from '../src/server/build-server.js';
import { migrateToLatest } from '../src/storage/migrator.js';
import { openStorage } from '../src/storage/storage.js';

const root = path.resolve(import.meta.dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuttle-openapi-'));
const storage = await openStorage({ engine: 'sqlite', file: path.join(dir, 'openapi.db') }, { create: true });
try {
  await migrateToLatest(storage);
  const app = await buildServer({ storage, key: MasterKey.generate(), home: dir, nodeId: 'openapi' });
  const doc = app.swagger() as { info: { version: string } };
  // The version changes with every release; keep the committed file stable across them.
  doc.info.version = 'see GET /api CuttleVersion';
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'docs/openapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
  await app.close();
  process.stdout.write(
    `Wrote docs/openapi.json (${Object.keys((doc as { paths?: object }).paths ?? {}).length} paths)\n`,
  );
} finally {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
