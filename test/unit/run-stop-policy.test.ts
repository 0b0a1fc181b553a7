// How a running bisync is stopped, per rclone version (rclone-bisync fact sheet §3): one SIGTERM and a long grace on
// 1.66 and later, never a second signal before it; SIGKILL at once on older versions, where a signal forces a resync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOP_GRACE_MS, stopPolicyFor } from '../../src/run/rules/stop-policy.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';

test('rclone 1.66 and later: one SIGTERM, SIGKILL only after the grace that covers a graceful shutdown', () => {
  for (const version of ['1.66.0', '1.75.2', '2.0.0']) {
    const policy = stopPolicyFor({ version });
    assert.equal(policy.signal, 'SIGTERM', version);
    assert.equal(policy.signal === 'SIGTERM' ? policy.killAfterMs : -1, STOP_GRACE_MS, version);
  }
  assert.ok(STOP_GRACE_MS >= 90_000, 'rclone takes up to 30 s to cancel transfers and 60 s to wrap up');
  assert.deepEqual(stopPolicyFor(CAPS_175, 1_234), { signal: 'SIGTERM', killAfterMs: 1_234, logLine: 'stopping rclone gracefully (SIGTERM)' });
});

test('rclone before 1.66: SIGKILL at once (a SIGTERM would mark the listings failed and force a resync)', () => {
  for (const version of ['1.60.1', '1.65.2']) assert.equal(stopPolicyFor({ version }).signal, 'SIGKILL', version);
  assert.deepEqual(stopPolicyFor(CAPS_160, 1_234), { signal: 'SIGKILL', logLine: 'stopping rclone (SIGKILL: on rclone < 1.66 a signal would force a resync)' });
});
