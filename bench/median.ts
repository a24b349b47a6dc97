/** The run with the median time (the lower middle one for an even count): `--runs N` decides by it. */
export function median<T extends { seconds: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)]!;
}
