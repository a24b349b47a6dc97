/**
 * Every interval of task ownership derives from one lease length, so the rules between them hold
 * whatever the length (CUTTLE_TASK_LEASE_MS; 60 s by default, shorter in tests):
 * - a lease is renewed every third of it: two renewals may fail (a database blip) before it runs out;
 * - a node that has not renewed for three quarters of it stops that task's scripts (SIGKILL) and
 *   stops writing as its owner, so nothing of it runs once the lease has run out;
 * - a script's watchdog kills its group when the node has not fed it for half a lease (a paused or
 *   hung node): a pause can start at most a third of a lease after a renewal, so that is still
 *   before the lease runs out;
 * - a node is shown offline after half a lease without a heartbeat.
 * Read once at start: a node must not change its timing while it holds leases.
 */
function leaseMsFromEnv(): number {
  const v = Number(process.env.CUTTLE_TASK_LEASE_MS);
  return Number.isFinite(v) && v >= 2_000 ? Math.floor(v) : 60_000;
}

/** The lease length of this process: CUTTLE_TASK_LEASE_MS, else 60 s. */
export const LEASE_MS = leaseMsFromEnv();

export interface LeaseTiming {
  leaseMs: number;
  renewEveryMs: number;
  /** Time left on a lease below which the node gives the task up itself. */
  giveUpMarginMs: number;
  watchdogStarveMs: number;
  /** How often the node feeds its scripts' watchdogs. */
  watchdogFeedMs: number;
  heartbeatMs: number;
  nodeGoneMs: number;
  /** How often a node looks for tasks whose lease ran out. */
  sweepEveryMs: number;
}

export function leaseTiming(leaseMs = LEASE_MS): LeaseTiming {
  return {
    leaseMs,
    renewEveryMs: Math.floor(leaseMs / 3),
    giveUpMarginMs: Math.floor(leaseMs / 4),
    watchdogStarveMs: Math.floor(leaseMs / 2),
    watchdogFeedMs: Math.min(1_000, Math.floor(leaseMs / 12)),
    heartbeatMs: Math.min(5_000, Math.floor(leaseMs / 12)),
    nodeGoneMs: Math.floor(leaseMs / 2),
    sweepEveryMs: Math.min(5_000, Math.floor(leaseMs / 4)),
  };
}

/** This process's timing (CUTTLE_TASK_LEASE_MS). */
export const TIMING = leaseTiming();
export const NODE_HEARTBEAT_MS = TIMING.heartbeatMs;
export const NODE_GONE_MS = TIMING.nodeGoneMs;
/** A node not seen for this long (60 leases: an hour by default) is taken off the node list. */
export const NODE_REMOVE_AFTER_MS = 60 * LEASE_MS;
