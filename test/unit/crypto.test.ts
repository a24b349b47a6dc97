import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { open, seal, WrongMasterKeyError } from '../../src/crypto/envelope.js';
import { openKeyBundle, sealKeyBundle } from '../../src/crypto/key-bundle.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { CuttleError } from '../../src/lib/errors.js';

describe('master key and envelopes', () => {
  it('round-trips values and refuses another key by id', () => {
    const a = MasterKey.generate();
    const b = MasterKey.generate();
    const env = seal(a, 'pässwörd ✓');
    assert.equal(open(a, env), 'pässwörd ✓');
    assert.notEqual(seal(a, 'x'), seal(a, 'x'), 'a fresh IV per value');
    assert.throws(() => open(b, env), WrongMasterKeyError);
  });

  it('detects a tampered envelope', () => {
    const k = MasterKey.generate();
    const env = seal(k, 'value');
    const parts = env.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    assert.throws(
      () => open(k, parts.join('.')),
      (e: unknown) => e instanceof CuttleError && /integrity/.test(e.message),
    );
  });

  it('parses only 256-bit keys', () => {
    const k = MasterKey.generate();
    assert.equal(MasterKey.parse(`${k.toBase64()}\n`, 'test').id, k.id);
    assert.throws(() => MasterKey.parse('c2hvcnQ=', 'test'), /not a 256-bit/);
  });

  it('seals the key in a passphrase bundle', async () => {
    const k = MasterKey.generate();
    const bundle = await sealKeyBundle(k, 'correct horse battery');
    assert.ok(!JSON.stringify(bundle).includes(k.toBase64()));
    assert.equal((await openKeyBundle(bundle, 'correct horse battery')).toBase64(), k.toBase64());
    await assert.rejects(openKeyBundle(bundle, 'wrong passphrase!'), /does not open/);
  });
});
