import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith, assertOk } from '../helpers/cli-checks.js';
import { tempDir } from '../helpers/engines.js';
import { isolateRegistry } from '../move/move-fixtures.js';

const registry = isolateRegistry('cli-paths');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };

/**
 * Wrong paths are refused before the work starts, with the path, a code and exit 2, never a raw
 * ENOTDIR/EISDIR/EPERM/EROFS after a whole backup or load. Root ignores permission bits, so the
 * test makes folders that refuse even root: a read-only bind mount and an immutable folder.
 */
describe('paths refused before the work starts', () => {
  const work = tempDir('cli-paths');
  const home = path.join(work, 'home');
  const readOnly = path.join(work, 'ro');
  const immutable = path.join(work, 'immutable');
  const aFile = path.join(work, 'a-file');
  let archive = '';
  let mounted = false;
  let chattr = false;
  before(async () => {
    assertOk(await runCli(['create-instance', '--instance', 'paths', '--home', home], { env }));
    archive = path.join(work, 'good.tar.gz');
    assertOk(await runCli(['backup', 'create', '--instance', 'paths', '--output', archive], { env }));
    fs.writeFileSync(aFile, 'x');
    fs.mkdirSync(readOnly);
    fs.mkdirSync(immutable);
    try {
      execFileSync('mount', ['--bind', '-o', 'ro', readOnly, readOnly], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,bind,ro', readOnly], { stdio: 'ignore' });
      mounted = true;
    } catch {}
    try {
      execFileSync('chattr', ['+i', immutable], { stdio: 'ignore' });
      chattr = true;
    } catch {}
  });
  after(() => {
    if (mounted) execFileSync('umount', [readOnly]);
    if (chattr) execFileSync('chattr', ['-i', immutable]);
  });

  it('backup create --output onto a folder: PATH_IS_A_DIRECTORY before the backup, nothing written', async () => {
    const before = fs.readdirSync(work).sort();
    const r = await runCli(['backup', 'create', '--instance', 'paths', '--output', work], { env });
    assertFailedWith(r, 2, 'PATH_IS_A_DIRECTORY');
    assert.doesNotMatch(r.all, /EISDIR|ENOTEMPTY|Load|rows/);
    assert.deepEqual(fs.readdirSync(work).sort(), before);
  });

  it('backup verify of a folder: PATH_IS_A_DIRECTORY', async () => {
    assertFailedWith(await runCli(['backup', 'verify', work], { env }), 2, 'PATH_IS_A_DIRECTORY');
  });

  it('configure --home onto a file, a read-only file system, an immutable folder', async () => {
    const onFile = await runCli(['configure', '--instance', 'paths', '--home', path.join(aFile, 'home')], {
      env,
    });
    assertFailedWith(onFile, 2, 'PATH_NOT_A_DIRECTORY');
    assert.doesNotMatch(onFile.all, /ENOTDIR/);
    if (mounted) {
      const ro = await runCli(['configure', '--instance', 'paths', '--home', path.join(readOnly, 'home')], {
        env,
      });
      assertFailedWith(ro, 2, 'PATH_NOT_WRITABLE');
      assert.match(ro.all, /read-only file system/);
    }
    if (chattr) {
      const imm = await runCli(['configure', '--instance', 'paths', '--home', immutable], { env });
      assertFailedWith(imm, 2, 'PATH_NOT_WRITABLE');
    }
    assert.ok(
      fs.existsSync(path.join(home, 'cuttle.config.json')) || fs.readdirSync(home).length > 0,
      'the home stays',
    );
  });

  it('configure --home into a subfolder of the current home through a symlink: FOLDERS_NESTED, nothing moved', async () => {
    const link = path.join(work, 'link-to-home');
    fs.symlinkSync(home, link);
    const files = fs.readdirSync(home).sort();
    for (const to of [path.join(link, 'sub'), link]) {
      const r = await runCli(['configure', '--instance', 'paths', '--home', to], { env });
      assertFailedWith(r, 1, 'FOLDERS_NESTED'); // a usage error, as for the direct path
      assert.match(r.all, /symlinks resolved/);
    }
    assert.deepEqual(fs.readdirSync(home).sort(), files, 'the home is as it was');
    const show = await runCli(['show-configuration', '--instance', 'paths', '--format', 'json'], { env });
    assert.ok(show.stdout.includes(home) && !show.stdout.includes(link), show.all);
  });

  it('backup restore --home onto a read-only folder: refused before the load', async (t) => {
    if (!mounted && !chattr) return t.skip('neither a read-only bind mount nor chattr +i is available here');
    const target = path.join(work, 'restored.db');
    const r = await runCli(
      [
        'backup',
        'restore',
        archive,
        '--storage-connection-string',
        `sqlite:${target}`,
        '--instance',
        'paths-restored',
        '--home',
        mounted ? path.join(readOnly, 'home') : immutable,
        '--master-key-file',
        path.join(home, 'master.key'),
      ],
      { env },
    );
    assertFailedWith(r, 2, 'PATH_NOT_WRITABLE');
    assert.ok(!fs.existsSync(target), 'nothing was loaded');
  });
});
