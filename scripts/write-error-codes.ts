/** Writes docs/reference/error-codes.md from the catalog in src/lib/error-codes.ts (npm run docs:errors). */
import fs from 'node:fs';
import path from 'node:path';
import { errorCodeReference } from '../src/lib/error-code-reference.js';

const file = path.resolve(import.meta.dirname, '../docs/reference/error-codes.md');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, errorCodeReference());
process.stdout.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
