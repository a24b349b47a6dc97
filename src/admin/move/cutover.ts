import type { ConnectionTarget } from '../../config/connection-string.js';
import { sameDatabase } from '../../config/connection-string.js';
import {
  describeStored,
  loadConfig,
  openConnection,
  pushHistory,
  saveConfig,
  sealConnection,
} from '../../config/instance-config.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { nowIso } from '../../lib/clock.js';
import type { Faults } from '../../lib/faults.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { getMetaJson, META, setMeta } from '../../storage/repositories/metadata-repository.js';
import type { Storage } from '../../storage/storage.js';
import type { FenceMarker } from '../instance-context.js';
import { deleteTargetMarker, type JournalStore } from './move-journal.js';

export interface CutoverContext {
  configFile: string;
  key: MasterKey;
  store: JournalStore;
  source: Storage;
  target: Storage;
  /** The target as the config will store it (with its password, sealed on save). */
  targetConnection: ConnectionTarget;
  progress: ProgressReporter;
  faults: Faults;
}

/**
 * The point of no return, in an order that a crash at any instant leaves recoverable:
 *   1. the journal says "cutover" (from now on --resume only finishes the move)
 *   2. the target's move marker goes (the new database is a normal one)
 *   3. the config points at the target, written atomically, old value in its history
 *   4. the source is fenced (a server started against it refuses to run)
 * Config before fence: a crash between them leaves the instance on the new database with an
 * unfenced old one, which --resume fences; the other order could leave the instance pointing at a
 * fenced database, i.e. down. Every step checks whether it was done already, so it can run again.
 */
export async function cutover(ctx: CutoverContext): Promise<void> {
  const { store, progress } = ctx;
  const j = store.journal;
  store.update((x) => {
    x.phase = 'cutover';
    x.failed = undefined;
  });
  progress.update({ step: 'cutover', message: 'switching the instance to the new database' });
  await deleteTargetMarker(ctx.target.db);

  const cfg = loadConfig(ctx.configFile);
  const current = openConnection(cfg.storage, ctx.key, cfg.home);
  if (!sameDatabase(current, ctx.targetConnection)) {
    pushHistory(
      cfg,
      'storage',
      cfg.storage,
      `was ${describeStored(cfg.storage, cfg.home)} (moved by ${j.moveId})`,
    );
    cfg.storage = sealConnection(ctx.targetConnection, ctx.key);
    saveConfig(ctx.configFile, cfg);
  }
  if (!j.cutover.configWritten) store.update((x) => (x.cutover.configWritten = nowIso()));
  ctx.faults.at('move:after-config');

  const fence = await getMetaJson<FenceMarker>(ctx.source.db, META.fence);
  if (!fence || fence.moveId !== j.moveId) {
    const marker: FenceMarker = { movedTo: j.targetDescription, moved: nowIso(), moveId: j.moveId };
    await setMeta(ctx.source.db, META.fence, JSON.stringify(marker));
  }
  if (!j.cutover.fenced) store.update((x) => (x.cutover.fenced = nowIso()));
  progress.update({ step: 'cutover', state: 'done', message: `old database fenced` });
  ctx.faults.at('move:after-fence');
}
