import os from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import { loadInstance, openInstanceStorage } from '../../admin/instance-context.js';
import type { Actor } from '../../core/actor.js';
import { cancelTasksOnNode, waitNodeIdle } from '../../core/node-drain-wait.js';
import { getNodeResource, listNodes, setNodeDrain } from '../../core/node-service.js';
import { RuntimeFailure, UsageError } from '../../lib/errors.js';
import { boolOption, intOption, withInstance } from '../instance-options.js';
import { out, outFields, outJson, outTable } from '../output.js';

type NodeResource = Awaited<ReturnType<typeof getNodeResource>>;

const stateOf = (n: NodeResource) => (n.IsOffline ? 'offline' : n.IsDraining ? 'draining' : 'online');

function showNode(n: NodeResource): void {
  outFields([
    ['Node', n.Name],
    ['Host', n.Host],
    ['Version', n.Version],
    ['State', stateOf(n)],
    ['Last seen', n.LastSeen],
    ['Task cap', n.MaxConcurrentTasks],
    ['Running tasks', n.RunningTasks],
    ['Drain changed', n.DrainModifiedBy ? `${n.DrainModifiedOn} by ${n.DrainModifiedBy}` : '-'],
  ]);
}

/**
 * `cuttle node`, Octopus's `node` command: show this instance's node (or `--node NAME`), list all,
 * switch its drain (`--drain=true|false`: no new tasks, running ones finish; the ping answers 418)
 * and its task cap, cancel what it runs, and wait until it runs nothing. The switch lives in the
 * database, so this works from any machine that reaches it; the node applies it within 2 s.
 */
export function register(program: Command) {
  withInstance(program.command('node'))
    .description("show, list or drain server nodes; set a node's task cap")
    .option('--node <name>', "the node to act on (default: this instance's node name)")
    .option('--list', 'list every node of the instance; change nothing')
    .option(
      '--drain <bool>',
      'true: take no new tasks (running ones finish); false: take tasks again',
      boolOption('--drain'),
    )
    .option('--task-cap <n>', 'how many tasks the node runs at once', intOption('--task-cap'))
    .option('--cancel-tasks', 'also cancel the tasks the node runs now (with --drain true)')
    .option('--wait <seconds>', 'wait until the node runs no task (with --drain true)', intOption('--wait'))
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const changes = o.drain !== undefined || o.taskCap !== undefined;
      if (o.list && (changes || o.cancelTasks || o.wait !== undefined))
        throw new UsageError('--list changes nothing; give it alone.', { code: 'OPTIONS_CONFLICT' });
      if ((o.cancelTasks || o.wait !== undefined) && o.drain !== true)
        throw new UsageError('--cancel-tasks and --wait go with --drain true.', { code: 'OPTIONS_CONFLICT' });
      const inst = loadInstance(o);
      const storage = await openInstanceStorage(inst);
      try {
        const { db } = storage;
        if (o.list) {
          const nodes = await listNodes(db);
          if (o.format === 'json') return outJson(nodes);
          if (!nodes.length) return out('No node of this instance has run yet.');
          return outTable(
            ['NODE', 'STATE', 'LAST SEEN', 'TASKS', 'CAP', 'VERSION'],
            nodes.map((n) => [
              n.Name,
              stateOf(n),
              n.LastSeen,
              n.RunningTasks,
              n.MaxConcurrentTasks,
              n.Version,
            ]),
          );
        }
        const id = o.node ?? inst.config.nodeName;
        let node = await getNodeResource(db, id);
        if (changes) {
          const actor: Actor = {
            userId: null,
            username: `${os.userInfo().username} (command line)`,
            role: 'administrator',
          };
          node = await setNodeDrain(db, actor, id, {
            IsInMaintenanceMode: o.drain,
            MaxConcurrentTasks: o.taskCap,
          });
          if (o.format !== 'json') {
            out(
              o.drain === true
                ? `Node ${id} drains: it takes no new tasks; running ones finish (its ping answers 418).`
                : o.drain === false
                  ? `Node ${id} takes tasks again.`
                  : `Node ${id} runs up to ${node.MaxConcurrentTasks} task(s) at once.`,
            );
          }
        }
        if (o.cancelTasks) {
          const canceled = await cancelTasksOnNode(db, id);
          if (o.format !== 'json')
            out(`Cancel requested for ${canceled.length} task(s): ${canceled.join(', ') || '-'}.`);
        }
        if (o.wait !== undefined) {
          const left = await waitNodeIdle(db, id, o.wait, (running) => {
            if (o.format !== 'json')
              out(`Waiting for ${running.length} task(s) on ${id}: ${running.join(', ')}`);
          });
          if (left.length) {
            throw new RuntimeFailure(
              `Node ${id} still runs ${left.length} task(s) after ${o.wait} s: ${left.join(', ')}. It stays draining.`,
              {
                code: 'NODE_DRAIN_TIMEOUT',
                hints: [
                  'Wait longer (--wait), or cancel them: cuttle node --drain true --cancel-tasks --wait 60',
                ],
              },
            );
          }
          if (o.format !== 'json') out(`Node ${id} runs no task.`);
          node = await getNodeResource(db, id);
        }
        if (o.format === 'json') return outJson(node);
        if (!changes && !o.cancelTasks && o.wait === undefined) showNode(node);
      } finally {
        await storage.close();
      }
    });
}
