/**
 * Octopus's `#{Name}` substitution, the subset scripts use: names are case-insensitive, a value
 * may itself reference variables (resolved up to MAX_DEPTH levels, which also stops cycles), and
 * an unknown name is left as written, as Octopus does.
 */
const MAX_DEPTH = 8;
const TOKEN = /#\{([^}#{]+)\}/g;

export class VariableDictionary {
  private readonly values = new Map<string, string>();

  set(name: string, value: string): void {
    this.values.set(name.trim().toLowerCase(), value);
  }

  get(name: string): string | undefined {
    const raw = this.values.get(name.trim().toLowerCase());
    return raw === undefined ? undefined : this.evaluate(raw, 1);
  }

  evaluate(text: string, depth = 0): string {
    if (depth > MAX_DEPTH || !text.includes('#{')) return text;
    return text.replace(TOKEN, (whole, name: string) => {
      const v = this.values.get(name.trim().toLowerCase());
      return v === undefined ? whole : this.evaluate(v, depth + 1);
    });
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}
