import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectServiceManager, unitFile, unitName } from '../../src/server-process/systemd-service.js';

describe('service: systemd unit', () => {
  it('runs `cuttle run` for the instance, drains on SIGTERM within the timeout, keeps the first key out of the journal', () => {
    const unit = unitFile({
      instance: 'prod',
      home: '/srv/cuttle',
      ref: { instance: 'prod' },
      stopTimeoutS: 900,
    });
    assert.equal(unitName('prod'), 'cuttle-prod.service');
    assert.match(unit, /^ExecStart=.* run --instance prod$/m);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^TimeoutStopSec=900$/m);
    assert.match(unit, /^RestartPreventExitStatus=2$/m);
    assert.match(unit, /^Environment=CUTTLE_INITIAL_ADMIN_FILE=\/srv\/cuttle\/run\/initial-admin.json$/m);
  });

  it('the manager can be forced, and is detected from PID 1 otherwise', () => {
    const saved = process.env.CUTTLE_SERVICE_MANAGER;
    try {
      process.env.CUTTLE_SERVICE_MANAGER = 'systemd';
      assert.equal(detectServiceManager(), 'systemd');
      delete process.env.CUTTLE_SERVICE_MANAGER;
      assert.ok(['systemd', 'background'].includes(detectServiceManager()));
    } finally {
      if (saved === undefined) delete process.env.CUTTLE_SERVICE_MANAGER;
      else process.env.CUTTLE_SERVICE_MANAGER = saved;
    }
  });
});
