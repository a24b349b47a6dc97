import type { MoveFaults } from '../admin/move/move-faults.js';
import { FAULTS_GLOBAL } from '../lib/faults.js';
import { DEFAULT_CLI_CONTEXT } from './cli-context.js';
import { main } from './main.js';

// The composition root: the one place that looks for crash-test hooks (lib/faults.ts). Only a
// test preload (`node --import test/helpers/fault-preload.ts`) puts any there.
const faults = (globalThis as { [FAULTS_GLOBAL]?: MoveFaults })[FAULTS_GLOBAL];

main(process.argv.slice(2), faults ? { faults } : DEFAULT_CLI_CONTEXT).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`Fatal: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 3;
  },
);
