/**
 * The portable domain: the values every engine Cuttle supports stores the same way, so that any
 * row can later be moved or restored to any other engine. Defined once, here, and enforced at the
 * doors (server/portable-input.ts for requests) and on every application write
 * (storage/portable-writes.ts), so a value that one engine would keep and another refuse never
 * gets in.
 *
 *  - text holds no NUL (PostgreSQL refuses U+0000) and no lone surrogate (not UTF-8: PostgreSQL
 *    and MySQL refuse it or store U+FFFD, so the bytes would change on a move);
 *  - short text (names, keys: logical types `id` and `text`) is at most 255 characters, what a
 *    MySQL/MariaDB VARCHAR(255) holds;
 *  - `int` is a signed 32-bit integer, `bigint` a safe JavaScript integer (|n| < 2^53).
 */
export const SHORT_TEXT_MAX = 255;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a text value is outside the portable domain, or undefined when it is inside. */
export function textProblem(v: string): string | undefined {
  const nul = v.indexOf('\u0000');
  if (nul >= 0) return `holds a NUL character (U+0000) at position ${nul}`;
  const m = LONE_SURROGATE.exec(v);
  if (m)
    return `holds a lone surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()}) at position ${m.index}, which is not valid UTF-8`;
  return undefined;
}

/** The first string (or object key) under `value` outside the portable domain, with its path. */
export function findNonPortableText(
  value: unknown,
  path: string,
): { path: string; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path, problem } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonPortableText(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyProblem = textProblem(k);
      if (keyProblem) return { path: `${path} (a key)`, problem: keyProblem };
      const found = findNonPortableText(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return undefined;
}
