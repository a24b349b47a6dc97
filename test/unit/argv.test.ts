import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeArgv } from '../../src/cli/argv.js';

describe('Octopus spellings', () => {
  it('maps camelCase options to kebab-case, keeping values intact', () => {
    assert.deepEqual(
      normalizeArgv(['configure', '--storageConnectionString=Host=a;Password=X;Provider=PostgreSQL']),
      ['configure', '--storage-connection-string=Host=a;Password=X;Provider=PostgreSQL'],
    );
    assert.deepEqual(normalizeArgv(['configure', '--nodeName', 'N1']), ['configure', '--node-name', 'N1']);
  });
  it('maps database --create/--upgrade/--grant to subcommands', () => {
    assert.deepEqual(normalizeArgv(['database', '--create', '--instance', 'x']), [
      'database',
      'create',
      '--instance',
      'x',
    ]);
    assert.deepEqual(normalizeArgv(['database', '--grant=app']), ['database', 'grant', '--user', 'app']);
  });
});
