import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'script-node-child.ts');

/** Processes (pid, command) whose process group is `pgid`, as `ps` sees them. */
function groupMembers(pgid: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pgid=,pid=,stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[0]) === pgid && !f[2]?.startsWith('Z'))
    .map((f) => `${f[1]} ${f.slice(3).join(' ')}`);
}

describe('a script never outlives its node', () => {
  it('SIGKILL of the node: the script and everything it started are killed, nothing is left (ps)', async () => {
    const node = spawn(process.execPath, ['--import', 'tsx', CHILD, tempDir('outlive')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pgid = 0;
    const lines = createInterface({ input: node.stdout! });
    for await (const line of lines) {
      if (line.startsWith('pgid ')) pgid = Number(line.slice(5));
      if (line === 'running') break;
    }
    assert.ok(pgid > 0, 'the runner reported the script group');
    assert.ok(groupMembers(pgid).length >= 3, `bash and two sleeps run: ${groupMembers(pgid).join('; ')}`);
    node.kill('SIGKILL');
    await once(node, 'exit');
    await waitFor(
      () => `the script group ${pgid} to be gone: ${groupMembers(pgid).join('; ')}`,
      () => groupMembers(pgid).length === 0,
    );
    assert.deepEqual(groupMembers(pgid), []);
  });
});
