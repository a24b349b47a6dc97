import { readFileSync } from 'node:fs';

/** Cuttle's own version, from package.json (two levels up from both src/lib and dist/lib). */
export const CUTTLE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The Octopus-compatible server version advertised by GET /api. The official client compares it
 * with semver and needs at least 2022.3.5512 for releases and deployments.
 */
export const OCTOPUS_COMPAT_VERSION = '2024.1.0';
