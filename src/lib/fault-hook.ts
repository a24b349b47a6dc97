/**
 * Fault injection for crash tests. `CUTTLE_FAULT` holds comma-separated points, each optionally
 * with a value (`rotate:before-commit`, `home:kill-after-files=2`, `home:flip-byte`). A crash
 * point kills the process with SIGKILL: no finally blocks, no exit handlers, as a power cut would.
 */
function activeFaults(): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of (process.env.CUTTLE_FAULT ?? '').split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    m.set(eq < 0 ? p : p.slice(0, eq), eq < 0 ? '' : p.slice(eq + 1));
  }
  return m;
}

/** The value of a fault point when it is set ('' for a bare point), undefined otherwise. */
export function faultValue(point: string): string | undefined {
  return activeFaults().get(point);
}

export function crashIfFault(point: string): void {
  if (faultValue(point) !== undefined) process.kill(process.pid, 'SIGKILL');
}
