import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface LogLine {
  time: string;
  category: string;
  text: string;
}

const ROW = 20;
const OVERSCAN = 30;

/**
 * A virtualised log: only the rows in view (and a margin) are in the DOM, each exactly ROW px
 * high in a box of fixed height, so 100,000 lines scroll as smoothly as 100 and lines arriving
 * never move anything else on the page. It follows the end while the reader is at the end.
 */
export function LogView({ lines, count }: { lines: LogLine[]; count: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(480);
  const follow = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) {
      el.scrollTop = el.scrollHeight;
      setTop(el.scrollTop);
    }
  }, [count]);
  const onScroll = () => {
    const el = box.current!;
    setTop(el.scrollTop);
    follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2;
  };
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(count, Math.ceil((top + height) / ROW) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const l = lines[i]!;
    rows.push(
      <div
        class={`log-line cat-${l.category.toLowerCase()}`}
        style={{ top: `${i * ROW}px` }}
        key={i}
        data-line={i}
      >
        <span class="log-time">{l.time}</span>
        <span class="log-cat">{l.category}</span>
        <span class="log-text">{l.text}</span>
      </div>,
    );
  }
  return (
    <div
      class="log-view"
      ref={box}
      onScroll={onScroll}
      // a region that scrolls takes focus, to scroll by keyboard (axe: scrollable-region-focusable)
      tabIndex={0}
      role="log"
      aria-label={`Task log, ${count} lines`}
    >
      <div class="log-space" style={{ height: `${count * ROW}px` }}>
        {rows}
      </div>
    </div>
  );
}
