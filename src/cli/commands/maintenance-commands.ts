import os from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import { loadInstance, openInstanceStorage } from '../../admin/instance-context.js';
import { getMaintenance, setMaintenance } from '../../core/maintenance-service.js';
import { UsageError } from '../../lib/errors.js';
import { withInstance } from '../instance-options.js';
import { out, outFields, outJson } from '../output.js';

/**
 * `cuttle maintenance --on | --off | --status`. The flag lives in the database, so this works
 * whether or not the server runs; a running server notices within a second.
 */
export function register(program: Command) {
  withInstance(program.command('maintenance'))
    .description(
      'turn maintenance mode on or off, or show it (only administrators can change anything while on)',
    )
    .option('--on', 'turn maintenance mode on')
    .option('--off', 'turn maintenance mode off')
    .option('--status', 'show whether maintenance mode is on (the default)')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const chosen = [o.on, o.off, o.status].filter(Boolean).length;
      if (chosen > 1)
        throw new UsageError('Choose one of --on, --off and --status.', { code: 'OPTIONS_CONFLICT' });
      const storage = await openInstanceStorage(loadInstance(o));
      try {
        let state = await getMaintenance(storage.db);
        if (o.on || o.off) {
          const on = Boolean(o.on);
          if (state.IsInMaintenanceMode !== on) {
            state = await setMaintenance(storage.db, on, `${os.userInfo().username} (command line)`);
          }
        }
        if (o.format === 'json') return outJson(state);
        if (o.on || o.off) {
          out(`Maintenance mode is ${state.IsInMaintenanceMode ? 'on' : 'off'}.`);
          if (state.IsInMaintenanceMode)
            out('Running and queued tasks still complete; only administrators can make changes.');
          return;
        }
        outFields([
          ['Maintenance mode', state.IsInMaintenanceMode ? 'on' : 'off'],
          ['Last changed by', state.LastModifiedBy],
          ['Last changed on', state.LastModifiedOn],
        ]);
      } finally {
        await storage.close();
      }
    });
}
