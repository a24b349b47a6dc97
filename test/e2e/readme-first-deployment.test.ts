import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';

/**
 * The README's "first deployment" runs exactly as written: its `sh first-deployment` blocks, in
 * order, through bash with `set -euo pipefail`, against a fresh instance of each engine. Only what
 * the blocks themselves take from the environment differs (CUTTLE_HOME, CUTTLE_PORT,
 * CUTTLE_STORAGE; SQLite keeps the README's default), plus the registry and a `cuttle` on the
 * PATH that runs the CLI the tests build. The outcome is then checked through the API, not
 * through what the blocks print.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function blocks(info: string): string[] {
  const found: string[] = [];
  const fence = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of README.matchAll(fence)) if (m[1]!.trim() === info) found.push(m[2]!);
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function runBash(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [file], { env, cwd: path.dirname(file), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const DEPLOYMENT = blocks('sh first-deployment');
const STOP = blocks('sh first-deployment-stop');

describe('README first deployment: the blocks are marked', () => {
  it('has the deployment blocks and the stop block, and curl is installed', () => {
    assert.ok(DEPLOYMENT.length >= 3, `found ${DEPLOYMENT.length} "sh first-deployment" blocks`);
    assert.equal(STOP.length, 1, 'one "sh first-deployment-stop" block');
    assert.match(DEPLOYMENT.join('\n'), /X-Octopus-ApiKey/, 'the REST calls send the API key header');
    assert.equal(spawnSync('curl', ['--version']).status, 0, 'the README uses curl: install it');
  });
});

for (const engine of ENGINES) {
  describe(`${engine}: the README's first deployment, line for line`, () => {
    let dir = '';
    let db: TestDatabase | undefined;
    let env: NodeJS.ProcessEnv = {};
    before(async () => {
      dir = tempDir('readme');
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const cli = [process.execPath, ...CLI_ARGS].map(shellQuote).join(' ');
      fs.writeFileSync(path.join(bin, 'cuttle'), `#!/bin/sh\nexec ${cli} "$@"\n`, { mode: 0o755 });
      if (engine !== 'sqlite') db = testDatabase(engine, 'readme');
      env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        CUTTLE_REGISTRY: path.join(dir, 'instances.json'),
        CUTTLE_HOME: path.join(dir, 'cuttle-home'),
        CUTTLE_PORT: String(await freePort()),
        READOUT: path.join(dir, 'readout'),
      };
      if (db) env.CUTTLE_STORAGE = db.connectionString;
      else delete env.CUTTLE_STORAGE;
      delete env.CUTTLE_SERVICE_MANAGER;
    });
    after(async () => {
      // Stops the server if the stop block did not (a failed run); nothing else is left behind.
      await runCli(['service', '--instance', 'demo', '--stop', '--force', '--timeout', '30'], {
        env: { CUTTLE_REGISTRY: env.CUTTLE_REGISTRY, CUTTLE_SERVICE_MANAGER: 'background' },
      });
      await db?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('deploys the Bash step: the task succeeds and its log holds the script output', {
      timeout: 300_000,
    }, async () => {
      const script = path.join(dir, 'first-deployment.sh');
      // The README's lines, then (the test's own) the values the API check below needs.
      fs.writeFileSync(
        script,
        ['set -euo pipefail', ...DEPLOYMENT, 'printf "%s\\n" "$URL" "$API_KEY" "$TASK_ID" > "$READOUT"'].join(
          '\n',
        ),
      );
      const run = await runBash(script, env);
      assert.equal(run.code, 0, `the README's lines failed:\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /Hello from Production/, 'the last block prints the log');

      const [url, apiKey, taskId] = fs.readFileSync(env.READOUT!, 'utf8').trim().split('\n');
      assert.equal(url, `http://127.0.0.1:${env.CUTTLE_PORT}`);
      assert.match(apiKey!, /^API-[A-Z0-9]+$/);
      const get = (p: string) => fetch(`${url}${p}`, { headers: { 'X-Octopus-ApiKey': apiKey! } });
      const task = (await (await get(`/api/tasks/${taskId}`)).json()) as Record<string, unknown>;
      assert.equal(task.State, 'Success', JSON.stringify(task));
      assert.equal(task.FinishedSuccessfully, true);
      const raw = await (await get(`/api/tasks/${taskId}/raw`)).text();
      assert.match(raw, /Info +Hello from Production$/m, raw);
      const instance = JSON.parse(fs.readFileSync(env.CUTTLE_REGISTRY!, 'utf8')) as unknown;
      assert.ok(
        JSON.stringify(instance).includes('demo'),
        'the instance is registered where CUTTLE_REGISTRY says',
      );
      const config = fs.readFileSync(path.join(env.CUTTLE_HOME!, 'cuttle.config.json'), 'utf8');
      assert.match(config, engine === 'sqlite' ? /sqlite/ : engine === 'postgres' ? /postgres/ : /mysql/);

      const stop = path.join(dir, 'stop.sh');
      fs.writeFileSync(stop, ['set -euo pipefail', ...STOP].join('\n'));
      const stopped = await runBash(stop, env);
      assert.equal(stopped.code, 0, `the README's stop line failed:\n${stopped.stdout}\n${stopped.stderr}`);
      const status = await runCli(['service', '--instance', 'demo', '--status', '--format', 'json'], {
        env: { CUTTLE_REGISTRY: env.CUTTLE_REGISTRY, CUTTLE_SERVICE_MANAGER: 'background' },
      });
      assert.equal(status.code, 0, status.all);
      assert.equal((JSON.parse(status.stdout) as { state: string }).state, 'stopped');
    });
  });
}
