/**
 * Fault injection for the move's tests, active only under the test runner (CUTTLE_TEST=1).
 * CUTTLE_MOVE_FAULT names one point; when the move reaches it the process kills itself with
 * SIGKILL (no cleanup, no journal flush: the harshest crash there is):
 *   after-preflight, after-maintenance, after-drain, after-schema, after-copy:<table>,
 *   during-copy:<table>:<rows>, after-copy, after-verify, after-config, after-fence, after-start
 * `corrupt:<table>` changes one row of <table> on the target between copy and verify instead;
 * `corrupt-early:<table>` right after that table's copy, before its check beside the other copies.
 */
function faultSpec(): string | undefined {
  if (process.env.CUTTLE_TEST !== '1') return undefined;
  return process.env.CUTTLE_MOVE_FAULT || undefined;
}

export function faultPoint(point: string): void {
  if (faultSpec() === point) process.kill(process.pid, 'SIGKILL');
}

/** Rows after which a copy of `table` dies (`during-copy:<table>:<rows>`), if that fault is set. */
export function killAfterRows(table: string): number | undefined {
  const m = /^during-copy:([a-z_]+):(\d+)$/.exec(faultSpec() ?? '');
  return m && m[1] === table ? Number(m[2]) : undefined;
}

export function corruptTable(): { table: string; early: boolean } | undefined {
  const m = /^corrupt(-early)?:([a-z_]+)$/.exec(faultSpec() ?? '');
  return m ? { table: m[2]!, early: !!m[1] } : undefined;
}
