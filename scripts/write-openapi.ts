/**
 * Writes docs/openapi.json from the routes' own schemas (npm run openapi). The document is
 * committed so API changes show up in review diffs, and a test (test/api/openapi-document.test.ts)
 * fails when it differs from what this writes; the server serves the same document live at
 * /api/openapi.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasterKey } from '../src/crypto/master-key.js';
import { buildServer } from '../src/server/build-server.js';
import { migrateToLatest } from '../src/storage/migrator.js';
import { openStorage } from '../src/storage/storage.js';

export const OPENAPI_FILE = path.resolve(import.meta.dirname, '..', 'docs/openapi.json');

/** The document's text, exactly as it is committed. */
export async function openApiText(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuttle-openapi-'));
  const storage = await openStorage(
    { engine: 'sqlite', file: path.join(dir, 'openapi.db') },
    { create: true },
  );
  try {
    await migrateToLatest(storage);
    const app = await buildServer({ storage, key: MasterKey.generate(), home: dir, nodeId: 'openapi' });
    try {
      const doc = app.swagger() as { info: { version: string } };
      // The version changes with every release; keep the committed file stable across them.
      doc.info.version = 'see GET /api CuttleVersion';
      return `${JSON.stringify(doc, null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await openApiText();
  fs.mkdirSync(path.dirname(OPENAPI_FILE), { recursive: true });
  fs.writeFileSync(OPENAPI_FILE, text);
  const paths = Object.keys((JSON.parse(text) as { paths?: object }).paths ?? {}).length;
  process.stdout.write(`Wrote docs/openapi.json (${paths} paths)\n`);
}
