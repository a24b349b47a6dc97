import fs from 'node:fs';
import type { MoveFaults } from '../../src/admin/move/move-faults.js';
import type { Storage } from '../../src/storage/storage.js';

/**
 * The crash-test hooks (src/lib/faults.ts, src/admin/move/move-faults.ts) as the tests spell them:
 * - `faults` (CUTTLE_FAULT): comma-separated points, each optionally with a value:
 *   `rotate:before-commit`, `rotate:after-commit`, `key-switch:after-next`, `key-switch:after-config`,
 *   `lost:before-commit`, `home:before-registry` end the process there; `home:kill-after-files=N`
 *   after the Nth file a verified copy wrote; `home:flip-byte` flips a byte of the first non-empty
 *   copied file.
 * - `moveFault` (CUTTLE_MOVE_FAULT): one point of a database move: after-preflight,
 *   after-maintenance, after-drain, after-schema, after-copy:<table>, during-copy:<table>:<rows>,
 *   after-copy, after-verify, after-config, after-fence, after-start end the process there;
 *   `corrupt:<table>` changes one row of <table> on the target between copy and verify,
 *   `corrupt-early:<table>` right after that table's copy, before its check beside the other copies.
 * Ending the process is SIGKILL: no cleanup, no journal flush, the harshest crash there is.
 */
export function faultInjector(spec: { faults?: string; moveFault?: string }): MoveFaults {
  const points = new Map<string, string>();
  for (const part of (spec.faults ?? '').split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    points.set(eq < 0 ? p : p.slice(0, eq), eq < 0 ? '' : p.slice(eq + 1));
  }
  const move = spec.moveFault ?? '';
  const killRows = /^during-copy:([a-z_]+):(\d+)$/.exec(move);
  const corrupt = /^corrupt(-early)?:([a-z_]+)$/.exec(move);
  const killAfterFiles = points.has('home:kill-after-files')
    ? Number(points.get('home:kill-after-files'))
    : NaN;
  let flip = points.has('home:flip-byte');
  const kill = () => process.kill(process.pid, 'SIGKILL');
  return {
    at(point) {
      if (points.has(point) || (move && point === `move:${move}`)) kill();
    },
    progressed(step, count) {
      if (step === 'home:files' && count === killAfterFiles) kill();
      if (killRows && step === `move:rows:${killRows[1]}` && count >= Number(killRows[2])) kill();
    },
    afterFileCopy(file) {
      if (flip && fs.statSync(file).size > 0) {
        flipFirstByte(file);
        flip = false;
      }
    },
    async afterTableCopy(table, target) {
      if (corrupt?.[1] && corrupt[2] === table) await corruptRow(target, table);
    },
    async beforeVerify(target) {
      if (corrupt && !corrupt[1]) await corruptRow(target, corrupt[2]!);
    },
    checksBesideCopies: !(corrupt && !corrupt[1]),
  };
}

/** Loaded only when a test corrupts a row (it pulls in the storage layer). */
async function corruptRow(target: Storage, table: string): Promise<void> {
  const { corruptOneRow } = await import('./corrupt-row.js');
  await corruptOneRow(target, table);
}

function flipFirstByte(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 0);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, 0);
  } finally {
    fs.closeSync(fd);
  }
}
