/** Canonical timestamps: UTC, millisecond precision, fixed width, so text order is time order. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function isoAfter(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}
