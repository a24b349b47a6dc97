import { useEffect, useState } from 'preact/hooks';
import type { Answer } from '../api/client';

/**
 * The one event stream of the page (GET /api/portal/events): banner status and the names of
 * tables that changed. Pages reload what they show when a table they show changes, so nothing
 * polls per cell. EventSource reconnects by itself (a restarting server, a database move).
 */
export type PortalStatus = Answer<'/api/portal/status', 'get'>;
type PortalStatusShape = PortalStatus;

type ChangeListener = (tables: string[]) => void;

let source: EventSource | undefined;
let status: PortalStatusShape | undefined;
let connected = false;
const statusListeners = new Set<(s: PortalStatusShape | undefined, connected: boolean) => void>();
const changeListeners = new Set<ChangeListener>();

export function startLive(): void {
  if (source) return;
  source = new EventSource('/api/portal/events');
  source.addEventListener('open', () => {
    const wasDown = !connected;
    connected = true;
    for (const l of statusListeners) l(status, connected);
    // Whatever changed while the stream was down: every page reloads.
    if (wasDown && status) for (const l of changeListeners) l(['*']);
  });
  source.addEventListener('error', () => {
    connected = false;
    for (const l of statusListeners) l(status, connected);
  });
  source.addEventListener('status', (e) => {
    status = JSON.parse((e as MessageEvent).data) as PortalStatusShape;
    for (const l of statusListeners) l(status, connected);
  });
  source.addEventListener('changed', (e) => {
    const { Tables } = JSON.parse((e as MessageEvent).data) as { Tables: string[] };
    for (const l of changeListeners) l(Tables);
  });
}

export function stopLive(): void {
  source?.close();
  source = undefined;
  status = undefined;
  connected = false;
}

export function useStatus(): { status: PortalStatusShape | undefined; connected: boolean } {
  const [s, setS] = useState({ status, connected });
  useEffect(() => {
    const l = (st: PortalStatusShape | undefined, c: boolean) => setS({ status: st, connected: c });
    statusListeners.add(l);
    l(status, connected);
    return () => {
      statusListeners.delete(l);
    };
  }, []);
  return s;
}

/** Calls `onChange` (at most every 300 ms) when any of `tables` changed. */
export function useChanges(tables: string[], onChange: () => void): void {
  const key = tables.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const l: ChangeListener = (changed) => {
      if (!changed.some((t) => t === '*' || tables.includes(t))) return;
      if (timer) return;
      const wait = Math.max(0, 300 - (Date.now() - last));
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        onChange();
      }, wait);
    };
    changeListeners.add(l);
    return () => {
      changeListeners.delete(l);
      if (timer) clearTimeout(timer);
    };
  }, [key, onChange]);
}
