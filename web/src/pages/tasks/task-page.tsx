import { useEffect, useRef, useState } from 'preact/hooks';
import { type Answer, ApiError, api, ok } from '../../api/client';
import { navigate } from '../../app/router';
import { useSession } from '../../app/session';
import { duration, formatTime } from '../../components/format';
import { ErrorBox, PageHeader, StateBadge } from '../../components/ui';
import { type LogLine, LogView } from './log-view';

type Head = {
  Task: Answer<'/api/tasks/{id}', 'get'>;
  Activities: {
    Id: string;
    Name: string;
    Status: string;
    Started: string | null;
    Ended: string | null;
    ParentId: string | null;
  }[];
  IsCompleted: boolean;
};
interface Chunk {
  Seq: number;
  ActivityId: string;
  Category: string;
  Occurred: string;
  Text: string;
}

/** Follows one task over its stream (GET /api/portal/tasks/{id}/stream), reconnecting after the last chunk it has. */
function useTaskStream(taskId: string) {
  const [head, setHead] = useState<Head>();
  const [count, setCount] = useState(0);
  const [ended, setEnded] = useState(false);
  const [failure, setFailure] = useState<ApiError>();
  const lines = useRef<LogLine[]>([]);
  useEffect(() => {
    lines.current = [];
    setCount(0);
    setEnded(false);
    setHead(undefined);
    setFailure(undefined);
    let headSeen = false;
    let last = -1;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const open = () => {
      source = new EventSource(`/api/portal/tasks/${encodeURIComponent(taskId)}/stream?after=${last}`);
      source.addEventListener('task', (e) => {
        headSeen = true;
        setFailure(undefined);
        setHead(JSON.parse((e as MessageEvent).data) as Head);
      });
      source.addEventListener('lines', (e) => {
        const { Chunks } = JSON.parse((e as MessageEvent).data) as { Chunks: Chunk[] };
        for (const c of Chunks) {
          if (c.Seq <= last) continue;
          last = c.Seq;
          const time = new Date(c.Occurred).toLocaleTimeString();
          for (const text of c.Text.split('\n')) lines.current.push({ time, category: c.Category, text });
        }
        setCount(lines.current.length);
      });
      source.addEventListener('end', () => {
        done = true;
        setEnded(true);
        source?.close();
      });
      source.addEventListener('error', () => {
        source?.close();
        if (done) return;
        if (headSeen) {
          retry = setTimeout(open, 1_000);
          return;
        }
        // A stream refused before it began (EventSource hides the answer): ask why, and stop
        // for what a retry cannot change (an unknown task, no permission).
        ok(api.GET('/api/tasks/{id}', { params: { path: { id: taskId } } })).then(
          () => {
            if (!done) retry = setTimeout(open, 1_000);
          },
          (err: unknown) => {
            if (done) return;
            const e = err instanceof ApiError ? err : new ApiError(0, String(err));
            setFailure(e);
            if (e.status === 0 || e.status >= 500) retry = setTimeout(open, 1_000);
          },
        );
      });
    };
    open();
    return () => {
      done = true;
      source?.close();
      if (retry) clearTimeout(retry);
    };
  }, [taskId]);
  return { head, lines: lines.current, count, ended, failure };
}

function useTick(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function ActivityTree({ head }: { head: Head }) {
  const children = new Map<string, Head['Activities']>();
  for (const a of head.Activities) {
    const parent = a.ParentId ?? '';
    children.set(parent, [...(children.get(parent) ?? []), a]);
  }
  const rootId = head.Task.Id;
  const render = (parent: string, depth: number): preact.JSX.Element | null => {
    const list = (children.get(parent) ?? []).filter((a) => a.Id !== rootId || depth === 0);
    if (!list.length || depth > 6) return null;
    return (
      <ul>
        {list.map((a) => (
          <li key={a.Id}>
            <StateBadge state={a.Status} /> {a.Name}
            {render(a.Id, depth + 1)}
          </li>
        ))}
      </ul>
    );
  };
  const top = head.Activities.filter(
    (a) => a.Id !== rootId && (a.ParentId === rootId || a.ParentId === null),
  );
  return (
    <nav aria-label="Activity" class="activity">
      <h2>Activity</h2>
      {top.length === 0 ? (
        <p class="muted small">No steps have started yet.</p>
      ) : (
        <ul class="activity-tree">
          {top.map((a) => (
            <li key={a.Id}>
              <StateBadge state={a.Status} /> {a.Name}
              {render(a.Id, 1)}
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}

export function TaskPage({ taskId }: { taskId: string }) {
  const { spaceId, isAdmin } = useSession();
  const { head, lines, count, ended, failure } = useTaskStream(taskId);
  const [error, setError] = useState<ApiError>();
  const t = head?.Task;
  const running = !!t && !t.IsCompleted;
  const now = useTick(running);
  const args = (t?.Arguments ?? {}) as Record<string, string>;
  const cancel = async () => {
    try {
      await ok(api.POST('/api/tasks/{id}/cancel', { params: { path: { id: taskId } } }));
      setError(undefined);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const rerun = async () => {
    try {
      if (t?.Name === 'Deploy') {
        const d = await ok(
          api.POST('/api/{spaceId}/deployments', {
            params: { path: { spaceId } },
            body: { ReleaseId: args.ReleaseId, EnvironmentId: args.EnvironmentId },
          }),
        );
        navigate(`/${spaceId}/tasks/${d.TaskId}`);
      } else if (t?.Name === 'Backup') {
        const b = await ok(api.POST('/api/admin/backups', { body: {} }));
        navigate(`/${spaceId}/tasks/${b.Id}`);
      }
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const started = t?.StartTime ? Date.parse(t.StartTime) : undefined;
  const finished = t?.CompletedTime ? Date.parse(t.CompletedTime) : undefined;
  const canRerun = t?.IsCompleted && (t.Name === 'Deploy' || (t.Name === 'Backup' && isAdmin));
  return (
    <section>
      <PageHeader title={t ? t.Description || t.Name : `Task ${taskId}`}>
        <button
          type="button"
          class="danger"
          disabled={!running || t?.State === 'Cancelling'}
          onClick={() => void cancel()}
        >
          Cancel
        </button>
        <button type="button" disabled={!canRerun} onClick={() => void rerun()}>
          Re-run
        </button>
      </PageHeader>
      <ErrorBox error={error ?? failure} />
      <dl class="task-facts">
        <div>
          <dt>State</dt>
          <dd data-task-state={t?.State ?? ''}>{t ? <StateBadge state={t.State} /> : '…'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{started ? duration((finished ?? now) - started) : 'not started'}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>{formatTime(t?.QueueTime)}</dd>
        </div>
        <div>
          <dt>Node</dt>
          <dd>{t?.ServerNode ?? '–'}</dd>
        </div>
        <div>
          <dt>Log</dt>
          <dd>
            {count} lines{ended ? ' (complete)' : ''}
          </dd>
        </div>
      </dl>
      {t?.ErrorMessage && (
        <p class="error-box" role="alert">
          {t.ErrorMessage}
        </p>
      )}
      <div class="task-layout">
        {head ? <ActivityTree head={head} /> : <div />}
        <LogView lines={lines} count={count} />
      </div>
    </section>
  );
}
