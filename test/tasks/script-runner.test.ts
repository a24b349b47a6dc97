import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PowerShellNotInstalledError, runScript, ScriptTimeoutError } from '../../src/tasks/script-runner.js';
import { tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { pidAlive } from './task-test-helpers.js';

function collect() {
  const lines: string[] = [];
  return { lines, onLine: (stream: 'stdout' | 'stderr', line: string) => lines.push(`${stream}:${line}`) };
}

describe('script runner', () => {
  it('runs bash in its work folder, streams stdout and stderr lines, returns the exit code', async () => {
    const workDir = tempDir('script');
    const c = collect();
    const r = await runScript({
      syntax: 'Bash',
      body: 'echo "hello $GREETING"\necho oops >&2\npwd\nprintf "no newline"\nexit 3\n',
      workDir,
      env: { GREETING: 'world' },
      onLine: c.onLine,
    });
    assert.equal(r.exitCode, 3);
    assert.ok(c.lines.includes('stdout:hello world'));
    assert.ok(c.lines.includes('stderr:oops'));
    assert.ok(c.lines.includes(`stdout:${fs.realpathSync(workDir)}`));
    assert.ok(c.lines.includes('stdout:no newline'));
  });

  it("never passes the server's CUTTLE_* settings to a script", async () => {
    process.env.CUTTLE_MASTER_KEY_TEST_ONLY = 'must-not-leak';
    try {
      const c = collect();
      await runScript({ syntax: 'Bash', body: 'env', workDir: tempDir('script'), onLine: c.onLine });
      assert.ok(!c.lines.some((l) => l.includes('must-not-leak')));
      assert.ok(c.lines.some((l) => l.startsWith('stdout:PATH=')));
    } finally {
      delete process.env.CUTTLE_MASTER_KEY_TEST_ONLY;
    }
  });

  it('says PowerShell is not installed when pwsh is not on the PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = tempDir('empty-path');
    try {
      await assert.rejects(
        runScript({
          syntax: 'PowerShell',
          body: 'Write-Host hi',
          workDir: tempDir('script'),
          onLine: () => {},
        }),
        (e: Error) =>
          e instanceof PowerShellNotInstalledError && /PowerShell is not installed/.test(e.message),
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it('abort kills the whole process group, background children included', async () => {
    const workDir = tempDir('script');
    const controller = new AbortController();
    let leader = 0;
    const c = collect();
    const p = runScript({
      syntax: 'Bash',
      // The leader notes SIGTERM and carries on: only the SIGKILL after the grace period ends it.
      body: 'sleep 300 &\necho $! > child.pid\ntrap "echo got-term" TERM\nwhile true; do sleep 0.2; done\n',
      workDir,
      signal: controller.signal,
      onLine: c.onLine,
      onSpawn: (pid) => {
        leader = pid;
      },
    });
    const childPid = await waitFor('child pid', async () => {
      const f = path.join(workDir, 'child.pid');
      return fs.existsSync(f) && Number(fs.readFileSync(f, 'utf8').trim());
    });
    assert.ok(pidAlive(childPid));
    controller.abort(new Error('stop it'));
    await assert.rejects(p, /stop it/);
    // SIGTERM came first and the script had the grace period to act on it; the SIGKILL ended it.
    assert.ok(c.lines.includes('stdout:got-term'), c.lines.join('\n'));
    assert.equal(pidAlive(leader), false, 'script process gone');
    assert.equal(pidAlive(childPid), false, 'background child gone');
  });

  it('a timeout stops the script and rejects with ScriptTimeoutError', async () => {
    const workDir = tempDir('script');
    let leader = 0;
    await assert.rejects(
      runScript({
        syntax: 'Bash',
        body: 'sleep 30',
        workDir,
        timeoutMs: 300,
        onLine: () => {},
        onSpawn: (pid) => {
          leader = pid;
        },
      }),
      (e: Error) => e instanceof ScriptTimeoutError && e.name === 'TimedOut',
    );
    // runScript settles only once the script's process group is gone.
    assert.equal(pidAlive(leader), false);
  });

  // The timeout only turns a runner that waits for the background process into a failure soon.
  it('ends with the script even if a background process keeps its output open', {
    timeout: 60_000,
  }, async () => {
    const workDir = tempDir('script');
    const r = await runScript({
      syntax: 'Bash',
      body: 'sleep 300 &\necho $! > bg.pid\necho done',
      workDir,
      onLine: () => {},
    });
    assert.equal(r.exitCode, 0);
    const bg = Number(fs.readFileSync(path.join(workDir, 'bg.pid'), 'utf8'));
    assert.ok(pidAlive(bg), 'the script ended while its background process still held the pipes');
    process.kill(bg, 'SIGKILL');
  });
});
