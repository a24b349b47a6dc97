/**
 * `node --import <this file>` before the CLI entry (test/helpers/cli.ts adds it when a test asks
 * for a fault): puts the crash-test hooks the environment asks for (CUTTLE_FAULT,
 * CUTTLE_MOVE_FAULT; fault-injector.ts) where the CLI's composition root looks for them
 * (src/lib/faults.ts FAULTS_GLOBAL). Child processes the CLI starts inherit the preload.
 */
import { FAULTS_GLOBAL } from '../../src/lib/faults.js';
import { faultInjector } from './fault-injector.js';

const spec = { faults: process.env.CUTTLE_FAULT, moveFault: process.env.CUTTLE_MOVE_FAULT };
if (spec.faults || spec.moveFault) {
  (globalThis as Record<symbol, unknown>)[FAULTS_GLOBAL] = faultInjector(spec);
}
