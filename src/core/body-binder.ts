/**
 * The Executions API bodies mix casings (`spaceId`, `spaceIdOrName`, `ProjectName`): read keys
 * case-insensitively and ignore the ones we do not know.
 */
export class BodyBinder {
  private readonly map = new Map<string, unknown>();

  constructor(body: unknown) {
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      for (const [k, v] of Object.entries(body)) this.map.set(k.toLowerCase(), v);
    }
  }

  raw(name: string): unknown {
    return this.map.get(name.toLowerCase());
  }

  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === null || v === undefined) return undefined;
    const s = String(v).trim();
    return s === '' ? undefined : s;
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    return v === true || v === 'true' || v === 'True';
  }

  strings(name: string): string[] {
    const v = this.raw(name);
    if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
    if (typeof v === 'string')
      return v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    return [];
  }

  record(name: string): Record<string, string> {
    const v = this.raw(name);
    const out: Record<string, string> = {};
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? '' : String(x);
    }
    return out;
  }
}
