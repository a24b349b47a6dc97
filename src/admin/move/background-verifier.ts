import type { TableSpec } from '../../storage/schema/column-types.js';
import { type VerifyContext, verifyTable } from './verify-tables.js';

/**
 * Verifies copied tables while others copy, keeping the streams in flight at `concurrency + 1`:
 * one verification beside a full set of copies, more as the copies run out. Verifying one table
 * at a time had left the last ones to be checked one after another on a machine with a core idle
 * (figures: docs/performance.md, "Figures behind design choices").
 * The first failure stops the rest (those not started stay unverified for verifyTables or a resume).
 */
export class BackgroundVerifier {
  private readonly queue: TableSpec[] = [];
  private running = 0;
  private copies = 0;
  private failure: { error: unknown } | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly ctx: VerifyContext) {}

  add(table: TableSpec): void {
    this.queue.push(table);
    this.pump();
  }

  copying(delta: number): void {
    this.copies += delta;
    this.pump();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Resolves once nothing is queued or running (after a failure: once nothing is running). */
  async idle(): Promise<void> {
    while (this.running > 0 || (this.queue.length > 0 && !this.failure)) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private pump(): void {
    const { concurrency } = this.ctx;
    const limit = Math.max(1, Math.min(concurrency, concurrency + 1 - this.copies));
    while (!this.failure && this.running < limit && this.queue.length > 0) {
      const table = this.queue.shift()!;
      this.running++;
      verifyTable(this.ctx, table)
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          this.running--;
          this.pump();
          for (const w of this.waiters.splice(0)) w();
        });
    }
  }
}
