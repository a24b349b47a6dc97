import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`/app#/Spaces-1/tasks/ServerTasks-1`, the form the API's own links use), so the
 * server serves one page and a reload keeps the place.
 */
export function currentPath(): string {
  const h = location.hash.replace(/^#/, '');
  return h.startsWith('/') ? h : `/${h}`;
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return path;
}

export function navigate(path: string): void {
  location.hash = path;
}

export function href(path: string): string {
  return `#${path}`;
}

/** Matches `/Spaces-1/projects/:id` style patterns; returns the named parts or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const [p] = path.split('?');
  const a = pattern.split('/').filter(Boolean);
  const b = (p ?? '').split('/').filter(Boolean);
  if (a.length !== b.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const seg = a[i]!;
    if (seg.startsWith(':')) out[seg.slice(1)] = decodeURIComponent(b[i]!);
    else if (seg.toLowerCase() !== b[i]!.toLowerCase()) return undefined;
  }
  return out;
}

export function queryOf(path: string): URLSearchParams {
  return new URLSearchParams(path.split('?')[1] ?? '');
}
