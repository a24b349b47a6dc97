import { sql } from 'kysely';
import { seal } from '../src/crypto/envelope.js';
import type { MasterKey } from '../src/crypto/master-key.js';
import { bulkLoad } from '../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../src/storage/codecs.js';
import { tableSpec } from '../src/storage/schema/tables.js';
import type { Storage } from '../src/storage/storage.js';

/**
 * The reference dataset (issue 4): at scale 1, 1,000,000 events, 200,000 server tasks with
 * 2,000,000 task-log lines and 50,000 variables, about 700 MB in PostgreSQL. Rows are canonical
 * and go in with bulkLoad, generated batch by batch, so memory stays flat at any size. The
 * database MUST already hold a Cuttle schema (create-instance); ids continue after the generated
 * ones (key_allocations is advanced).
 */
export interface DatasetSize {
  events: number;
  tasks: number;
  logLinesPerTask: number;
  variables: number;
}

export const REFERENCE_DATASET: DatasetSize = {
  events: 1_000_000,
  tasks: 200_000,
  logLinesPerTask: 10,
  variables: 50_000,
};

export function scaled(scale: number): DatasetSize {
  const r = (n: number) => Math.max(1, Math.round(n * scale));
  return {
    events: r(REFERENCE_DATASET.events),
    tasks: r(REFERENCE_DATASET.tasks),
    logLinesPerTask: REFERENCE_DATASET.logLinesPerTask,
    variables: r(REFERENCE_DATASET.variables),
  };
}

const PROJECTS = 20;
const ENVIRONMENTS = ['Development', 'Test', 'Production'];
const BATCH = 2000;
const T0 = Date.UTC(2024, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

async function* generate(
  n: number,
  row: (i: number) => CanonicalValue[],
): AsyncGenerator<CanonicalValue[][]> {
  for (let start = 1; start <= n; start += BATCH) {
    const batch: CanonicalValue[][] = [];
    for (let i = start; i < Math.min(n + 1, start + BATCH); i++) batch.push(row(i));
    yield batch;
  }
}

export async function generateDataset(
  storage: Storage,
  size: DatasetSize,
  opts: { key?: MasterKey; onTable?: (table: string, rows: number) => void } = {},
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const load = async (table: string, n: number, row: (i: number) => CanonicalValue[]) => {
    counts[table] = await bulkLoad(storage, tableSpec(table), generate(n, row));
    opts.onTable?.(table, counts[table]);
  };
  const space = 'Spaces-9001';
  await load('spaces', 1, () => [
    space,
    'Bench',
    'bench',
    'bench',
    'Reference dataset',
    false,
    false,
    '{}',
    1,
  ]);
  await load('project_groups', 1, () => ['ProjectGroups-9001', space, 'Bench', '', 1]);
  await load('lifecycles', 1, () => ['Lifecycles-9001', space, 'Default', '', '{"Phases":[]}', 1]);
  await load('environments', ENVIRONMENTS.length, (i) => [
    `Environments-${9000 + i}`,
    space,
    ENVIRONMENTS[i - 1]!,
    ENVIRONMENTS[i - 1]!.toLowerCase(),
    '',
    i,
    false,
    false,
    1,
  ]);
  const project = (i: number) => `Projects-${9000 + (i % PROJECTS) + 1}`;
  await load('projects', PROJECTS, (i) => [
    `Projects-${9000 + i}`,
    space,
    `Project ${i}`,
    `project ${i}`,
    `project-${i}`,
    'A project of the reference dataset',
    'ProjectGroups-9001',
    'Lifecycles-9001',
    false,
    '{"DefaultGuidedFailureMode":"EnvironmentDefault"}',
    1,
  ]);
  await load('channels', PROJECTS, (i) => [
    `Channels-${9000 + i}`,
    space,
    `Projects-${9000 + i}`,
    'Default',
    true,
    1,
  ]);
  await load('deployment_processes', PROJECTS, (i) => [
    `DeploymentProcesses-${9000 + i}`,
    space,
    `Projects-${9000 + i}`,
    1,
    JSON.stringify({
      Steps: [
        {
          Name: 'Run a script',
          Actions: [
            {
              ActionType: 'Octopus.Script',
              Properties: {
                'Octopus.Action.Script.ScriptBody': 'echo "Deploying #{Octopus.Release.Number}"',
              },
            },
          ],
        },
      ],
    }),
    1,
  ]);
  await load('variable_sets', PROJECTS, (i) => [
    `VariableSets-${9000 + i}`,
    space,
    `Projects-${9000 + i}`,
    1,
    1,
  ]);
  await load('variables', size.variables, (i) => {
    const sensitive = i % 10 === 0;
    const value = `value-${i}-${'v'.repeat(i % 40)}`;
    return [
      `Variables-${i}`,
      `VariableSets-${9000 + (i % PROJECTS) + 1}`,
      `Var.Name.${i % 500}`,
      sensitive && opts.key ? seal(opts.key, value) : value,
      sensitive && !!opts.key,
      JSON.stringify({ Environment: [`Environments-${9000 + (i % 3) + 1}`] }),
      i,
      i,
    ];
  });
  const releases = Math.max(1, Math.floor(size.tasks / 10));
  await load('releases', releases, (i) => [
    `Releases-${i}`,
    space,
    project(i),
    `Channels-${9000 + (i % PROJECTS) + 1}`,
    `1.0.${i}`,
    `Release notes for ${i}`,
    iso(T0 + i * 60_000),
    '{"Steps":[]}',
    '{"Variables":[]}',
    i,
  ]);
  await load('server_tasks', size.tasks, (i) => [
    `ServerTasks-${i}`,
    space,
    'Deploy',
    'Deploy',
    `Deploy release 1.0.${i % releases} to Production`,
    'Success',
    JSON.stringify({ DeploymentId: `Deployments-${i}` }),
    iso(T0 + i * 1000),
    iso(T0 + i * 1000 + 50),
    iso(T0 + i * 1000 + 900),
    iso(T0 + i * 1000 + 900),
    null,
    false,
    null,
    null,
    1,
    false,
    0,
    '{"Children":[]}',
    i,
  ]);
  const lines = size.tasks * size.logLinesPerTask;
  await load('task_log_chunks', lines, (i) => {
    const task = Math.floor((i - 1) / size.logLinesPerTask) + 1;
    const seq = (i - 1) % size.logLinesPerTask;
    return [
      `ServerTasks-${task}`,
      seq,
      `ServerTasks-${task}_step1`,
      seq === 0 ? 'Highlight' : 'Info',
      iso(T0 + task * 1000 + seq),
      `Line ${seq} of the deployment log for task ${task}: copying files, running scripts, all good`,
    ];
  });
  await load('deployments', size.tasks, (i) => [
    `Deployments-${i}`,
    space,
    project(i),
    `Releases-${(i % releases) + 1}`,
    `Environments-${9000 + (i % 3) + 1}`,
    `Channels-${9000 + (i % PROJECTS) + 1}`,
    `ServerTasks-${i}`,
    `Deploy to ${ENVIRONMENTS[i % 3]}`,
    iso(T0 + i * 1000),
    null,
    '{"FormValues":{}}',
    i,
  ]);
  await load('events', size.events, (i) => [
    `Events-${i}`,
    space,
    i % 2 ? 'DeploymentSucceeded' : 'Modified',
    `Deploy to ${ENVIRONMENTS[i % 3]} succeeded for Project ${i % PROJECTS} release 1.0.${i % releases}`,
    iso(T0 + i * 500),
    'Users-1',
    'admin',
    JSON.stringify([`Projects-${9000 + (i % PROJECTS) + 1}`, `Deployments-${i}`]),
    JSON.stringify({ DeploymentId: `Deployments-${i}`, Duration: i % 1000 }),
  ]);
  await load('event_references', size.events, (i) => [
    `Projects-${9000 + (i % PROJECTS) + 1}`,
    `Events-${i}`,
    iso(T0 + i * 500),
  ]);
  const next: Record<string, number> = {
    Variables: size.variables + 1,
    Releases: releases + 1,
    ServerTasks: size.tasks + 1,
    Deployments: size.tasks + 1,
    Events: size.events + 1,
    Projects: 9000 + PROJECTS + 1,
    Environments: 9000 + ENVIRONMENTS.length + 1,
    Spaces: 9002,
    Channels: 9000 + PROJECTS + 1,
  };
  for (const [collection, n] of Object.entries(next)) {
    await sql`UPDATE key_allocations SET next_id = ${n} WHERE collection_name = ${collection} AND next_id < ${n}`.execute(
      storage.db,
    );
  }
  return counts;
}
