/**
 * A counter per table that moves each time a write to the table through this process's database
 * handle becomes visible to other connections (its statement committed, or its transaction did).
 * Caches tag what they read with the version they saw before reading and drop it once the version
 * has moved, so nothing written through this node is ever served stale. Writes from other
 * processes (other nodes, the CLI) do not move it: caches also expire by age for those.
 *
 * `write-watching-dialect.ts` is the only writer; it sees every query of the handle, so no
 * repository, queue or executor has to remember to report its writes.
 */
export class TableChanges {
  private readonly counts = new Map<string, number>();
  /** Moves on writes whose tables are unknown (raw SQL, DDL): every table's version moves with it. */
  private unknown = 0;

  /** A number that changes whenever any of `tables` was written (never goes back). */
  version(...tables: string[]): number {
    let v = this.unknown;
    for (const t of tables) v += this.counts.get(t) ?? 0;
    return v;
  }

  /** Called after the write committed. `null`: tables not known, every version moves. */
  committed(tables: ReadonlySet<string> | null): void {
    if (tables === null) {
      this.unknown++;
      return;
    }
    for (const t of tables) this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }
}
