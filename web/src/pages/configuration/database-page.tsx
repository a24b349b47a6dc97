import { useEffect, useState } from 'preact/hooks';
import { type Answer, type ApiError, api, ok } from '../../api/client';
import { href } from '../../app/router';
import { useLoad } from '../../app/use-load';
import { bytes, formatTime } from '../../components/format';
import { ErrorBox, Loading, PageHeader } from '../../components/ui';

export function DatabasePage() {
  const db = useLoad(() => ok(api.GET('/api/admin/database')), []);
  return (
    <section>
      <PageHeader title="Database">
        <a class="button primary" href={href('/configuration/database/move')}>
          Move database…
        </a>
      </PageHeader>
      <ErrorBox error={db.error} />
      {!db.data && !db.error && <Loading what="the database check" />}
      {db.data && (
        <>
          <dl class="facts" data-database={db.data.Engine}>
            <dt>Database</dt>
            <dd>{db.data.Storage}</dd>
            <dt>Engine</dt>
            <dd>{db.data.Engine}</dd>
            <dt>Server version</dt>
            <dd>{db.data.ServerVersion}</dd>
            <dt>User</dt>
            <dd>{db.data.User}</dd>
            <dt>Size</dt>
            <dd>{db.data.SizeBytes === null ? 'unknown' : bytes(db.data.SizeBytes)}</dd>
            <dt>Schema version</dt>
            <dd>
              {db.data.SchemaVersion} of {db.data.LatestSchemaVersion} ({db.data.SchemaState})
            </dd>
            <dt>Master key</dt>
            <dd>{db.data.MasterKeyCanary === 'ok' ? 'opens this database' : db.data.MasterKeyCanary}</dd>
            <dt>Privileges</dt>
            <dd>
              {db.data.PrivilegesOk
                ? 'all that Cuttle needs'
                : `missing: ${db.data.MissingPrivileges.join(', ')}`}
            </dd>
          </dl>
          {!db.data.PrivilegesOk && (
            <div class="error-box">
              <p>Run this as a database administrator to fix it (or `cuttle database grant --user NAME`):</p>
              <pre>{db.data.PrivilegeFix.join('\n')}</pre>
            </div>
          )}
          {db.data.Problems.filter((p) => p.Code !== 'DATABASE_PRIVILEGES_MISSING').map((p) => (
            <div class="error-box" key={p.Code} data-problem={p.Code}>
              <p>
                <code>{p.Code}</code> {p.Message}
              </p>
              {p.Fix.length > 0 && <pre>{p.Fix.join('\n')}</pre>}
            </div>
          ))}
        </>
      )}
    </section>
  );
}

type Move = Answer<'/api/admin/database-move/{id}', 'get'>;
const PHASES = ['preflight', 'maintenance', 'drain', 'copy', 'verify', 'cutover', 'start', 'done'];

/**
 * The guided move: the same move as `cuttle database move`, run by the server as that command.
 * The server it runs in stops and starts again during the move, so this page asks for the move's
 * progress every second (the journal on disk) and keeps asking through the restart.
 */
export function MoveDatabasePage() {
  const [to, setTo] = useState('');
  const [plan, setPlan] = useState<Move>();
  const [move, setMove] = useState<Move>();
  const [unreachable, setUnreachable] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const start = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await ok(api.POST('/api/admin/database-move', { body: { To: to, DryRun: dryRun } }));
      if (dryRun) setPlan(r);
      else setMove(r);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (!move || move.IsCompleted) return;
    const t = setTimeout(async () => {
      try {
        setMove(await ok(api.GET('/api/admin/database-move/{id}', { params: { path: { id: move.Id } } })));
        setUnreachable(false);
      } catch {
        setUnreachable(true);
        setMove({ ...move }); // ask again
      }
    }, 1_000);
    return () => clearTimeout(t);
  }, [move]);
  const phase = move?.Phase ?? '';
  return (
    <section>
      <PageHeader title="Move the database" />
      <p>
        Moves the instance to another database (another server or another engine): preflight, maintenance mode
        on, drain, copy, verify every table by row count and content hash, cut over, fence the old database,
        start again. Nothing is changed until preflight passes; a failure before cutover leaves the instance
        where it was.
      </p>
      <form
        aria-label="Move target"
        onSubmit={(e) => {
          e.preventDefault();
          void start(true);
        }}
      >
        <label for="mv-to">New database (connection string; an empty database)</label>
        <input
          id="mv-to"
          class="wide"
          value={to}
          autoComplete="off"
          placeholder="postgres://cuttle:PASSWORD@db:5432/cuttle"
          disabled={!!move}
          onInput={(e) => setTo(e.currentTarget.value)}
        />
        <div class="form-actions">
          <button type="submit" disabled={busy || !to || !!move}>
            Check (dry run)
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy || !to || !!move || !plan || plan.State !== 'Planned'}
            onClick={() => void start(false)}
          >
            Move now
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {plan && !move && (
        <div class={plan.State === 'Planned' ? 'notice' : 'error-box'} data-move-plan={plan.State}>
          <p>
            {plan.State === 'Planned' ? 'Preflight passed' : 'Preflight found problems'}: {plan.Source} →{' '}
            {plan.Target}, {plan.TablesTotal} tables.
          </p>
          {plan.Plan?.Problems.map((p) => (
            <p key={p.Check}>
              {p.Message} {p.Fix.join(' ')}
            </p>
          ))}
          {plan.Plan?.Warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </div>
      )}
      {move && (
        <div class="card" role="status" aria-label="Move progress" data-move-state={move.State}>
          <h2>
            Move {move.Id}: {move.State}
          </h2>
          {unreachable && <p class="muted">The server is restarting as part of the move; waiting for it…</p>}
          <ol class="phases">
            {PHASES.map((p) => (
              <li
                key={p}
                aria-current={p === phase ? 'step' : undefined}
                class={PHASES.indexOf(p) < PHASES.indexOf(phase) || move.State === 'Success' ? 'done' : ''}
              >
                {p}
              </li>
            ))}
          </ol>
          <p>
            Tables copied {move.TablesCopied} and verified {move.TablesVerified} of {move.TablesTotal};{' '}
            {move.RowsCopied} rows.
          </p>
          <progress
            class="progress"
            max={Math.max(1, move.TablesTotal * 2)}
            value={move.TablesCopied + move.TablesVerified}
          />
          {move.ErrorMessage && <p class="error-box">{move.ErrorMessage}</p>}
          {move.State === 'Success' && (
            <p class="notice">
              Moved to {move.Target}; every table verified. Maintenance mode was on from{' '}
              {formatTime(move.MaintenanceOnAt)} to {formatTime(move.MaintenanceOffAt)}.
            </p>
          )}
          <details>
            <summary>Log</summary>
            <pre class="move-log">{move.Log.join('\n')}</pre>
          </details>
        </div>
      )}
    </section>
  );
}
