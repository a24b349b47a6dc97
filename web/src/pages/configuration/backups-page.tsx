import { useEffect, useState } from 'preact/hooks';
import { type Answer, type ApiError, api, ok } from '../../api/client';
import { useChanges } from '../../app/live';
import { href } from '../../app/router';
import { useSession } from '../../app/session';
import { useLoad } from '../../app/use-load';
import { bytes, formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader, StateBadge } from '../../components/ui';

type Verify = Answer<'/api/admin/backups/verify', 'post'>;

export function BackupsPage() {
  const { spaceId } = useSession();
  const list = useLoad(() => ok(api.GET('/api/admin/backups')), []);
  const schedule = useLoad(() => ok(api.GET('/api/admin/backups/schedule')), []);
  const [taskId, setTaskId] = useState<string>();
  const task = useLoad(
    () =>
      taskId
        ? ok(api.GET('/api/tasks/{id}', { params: { path: { id: taskId } } }))
        : Promise.resolve(undefined),
    [taskId],
  );
  useChanges(['server_tasks'], task.reload);
  useEffect(() => {
    if (task.data?.IsCompleted) list.reload();
  }, [task.data?.IsCompleted]);
  const [error, setError] = useState<ApiError>();
  const [verified, setVerified] = useState<Verify>();
  const [verifying, setVerifying] = useState<string>();
  const [sched, setSched] = useState('');
  const [retention, setRetention] = useState('');
  useEffect(() => {
    setSched(schedule.data?.Schedule ?? '');
    setRetention(
      schedule.data?.Retention === null || schedule.data?.Retention === undefined
        ? ''
        : String(schedule.data.Retention),
    );
  }, [schedule.data]);
  const act = async (fn: () => Promise<void>) => {
    try {
      await fn();
      setError(undefined);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section>
      <PageHeader title="Backups">
        <button
          type="button"
          class="primary"
          onClick={() =>
            void act(async () => setTaskId((await ok(api.POST('/api/admin/backups', { body: {} }))).Id))
          }
        >
          Back up now
        </button>
      </PageHeader>
      <ErrorBox error={error ?? task.error ?? schedule.error} />
      {task.data && (
        <div class="card" role="status" aria-label="Backup progress">
          <p>
            Backup task <a href={href(`/${spaceId}/tasks/${task.data.Id}`)}>{task.data.Id}</a>:{' '}
            <StateBadge state={task.data.State} /> {task.data.Duration}
          </p>
          <progress
            class="progress"
            max={100}
            value={task.data.IsCompleted ? 100 : task.data.StartTime ? 50 : 5}
          />
          {task.data.ErrorMessage && <p class="error-box">{task.data.ErrorMessage}</p>}
        </div>
      )}
      <h2>Archives</h2>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="archives" />}
      {list.data && (
        <>
          <p class="muted small">In {list.data.Folder}</p>
          {list.data.Items.length === 0 && <p>No archives yet.</p>}
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Archive</th>
                  <th scope="col">Created</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.data.Items.map((a) => (
                  <tr key={a.File} data-archive={a.File}>
                    <th scope="row">
                      {a.File}
                      <div class="muted small">
                        {a.Scheduled ? 'scheduled' : 'manual'}
                        {a.Complete ? '' : ' · incomplete'}
                      </div>
                    </th>
                    <td>{formatTime(a.Created ?? a.Modified)}</td>
                    <td class="num">{bytes(a.Bytes)}</td>
                    <td>
                      <div class="form-actions">
                        <button
                          type="button"
                          disabled={verifying === a.File}
                          onClick={() =>
                            void act(async () => {
                              setVerifying(a.File);
                              setVerified(undefined);
                              try {
                                setVerified(
                                  await ok(api.POST('/api/admin/backups/verify', { body: { File: a.File } })),
                                );
                              } finally {
                                setVerifying(undefined);
                              }
                            })
                          }
                        >
                          {verifying === a.File ? 'Verifying…' : 'Verify'}
                        </button>
                        <a
                          class="button"
                          href={`/api/admin/backups/download/${encodeURIComponent(a.File)}`}
                          download={a.File}
                        >
                          Download
                        </a>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {verified && (
        <div
          class={verified.Ok ? 'notice' : 'error-box'}
          role="status"
          data-verify={verified.Ok ? 'ok' : 'failed'}
        >
          <p>
            {verified.File}: {verified.Ok ? 'verified' : 'FAILED'} — {verified.ChecksPassed} checks passed,{' '}
            {verified.ChecksFailed} failed; {verified.TotalRows} rows in {verified.Tables.length} tables;
            master key: {verified.MasterKey}.
          </p>
          {verified.NonPortableValues.length > 0 && (
            <>
              <p>
                Restorable, but not to {verified.NotRestorableTo.join(' or ')}: old values those engines
                cannot store.
              </p>
              <ul>
                {verified.NonPortableValues.map((v) => (
                  <li key={v}>{v}</li>
                ))}
              </ul>
            </>
          )}
          {verified.Problems.length > 0 && (
            <ul>
              {verified.Problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <h2>Schedule</h2>
      <form
        class="field-row"
        aria-label="Backup schedule"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await ok(
              api.PUT('/api/admin/backups/schedule', {
                body: {
                  Schedule: sched.trim() || null,
                  ...(retention ? { Retention: Number(retention) } : {}),
                },
              }),
            );
            schedule.reload();
          });
        }}
      >
        <div>
          <label for="bk-sched">Schedule (UTC, e.g. daily 02:00; empty: off)</label>
          <input id="bk-sched" value={sched} onInput={(e) => setSched(e.currentTarget.value)} />
        </div>
        <div>
          <label for="bk-ret">Keep (scheduled archives)</label>
          <input
            id="bk-ret"
            type="number"
            min={1}
            value={retention}
            onInput={(e) => setRetention(e.currentTarget.value)}
          />
        </div>
        <button type="submit">Save schedule</button>
      </form>
      {schedule.data?.NextRun && <p class="muted small">Next run: {formatTime(schedule.data.NextRun)}</p>}
    </section>
  );
}
