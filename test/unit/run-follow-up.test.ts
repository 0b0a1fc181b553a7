// What a run does after one rclone attempt (src/run/rules/follow-up.ts): retry once after a stale lock, resync once
// automatically when the job may, else stop; and which extra bisync follows a good run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterGoodRun, nextAttempt, type AttemptFacts } from '../../src/run/rules/follow-up.js';
import type { FollowUp } from '../../src/run/rules/classify.js';

const facts = (overrides: Partial<AttemptFacts> = {}): AttemptFacts => ({
  plan: { operation: 'bisync', dryRun: false }, cancelled: false, retriedLock: false, autoResynced: false, autoResync: false, wasInterrupted: false, hasResyncMode: true, ...overrides,
});
const after = (followUp: FollowUp, overrides: Partial<AttemptFacts> = {}) => nextAttempt({ followUp }, facts(overrides));

test('a stale lock is removed and the attempt repeated once; a second one ends the run', () => {
  assert.deepEqual(after('stale-lock'), { kind: 'remove-stale-lock' });
  assert.deepEqual(after('stale-lock', { retriedLock: true }), { kind: 'done' });
  assert.deepEqual(after('stale-lock', { plan: { operation: 'resync', dryRun: true } }), { kind: 'remove-stale-lock' }, 'also for a dry run or a resync');
});

test('changed filters resync automatically; a lockout only with auto_resync or after an interruption rclone can recover', () => {
  assert.deepEqual(after('auto-resync'), { kind: 'auto-resync', reason: 'filters-changed' });
  assert.deepEqual(after('lockout'), { kind: 'done' }, 'a lockout without auto_resync waits for the user');
  assert.deepEqual(after('lockout', { autoResync: true }), { kind: 'auto-resync', reason: 'auto-resync' });
  assert.deepEqual(after('lockout', { wasInterrupted: true }), { kind: 'auto-resync', reason: 'interrupted' });
  assert.deepEqual(after('lockout', { wasInterrupted: true, hasResyncMode: false }), { kind: 'done' }, '1.60 has no --resync-mode: no automatic resync after an interruption');
  assert.deepEqual(after('lockout', { autoResync: true, wasInterrupted: true }), { kind: 'auto-resync', reason: 'auto-resync' });
});

test('never a second automatic resync, none in a dry run or after a resync, none after a cancel, nothing for other follow-ups', () => {
  assert.deepEqual(after('auto-resync', { autoResynced: true }), { kind: 'done' });
  assert.deepEqual(after('lockout', { autoResync: true, plan: { operation: 'bisync', dryRun: true } }), { kind: 'done' });
  assert.deepEqual(after('lockout', { autoResync: true, plan: { operation: 'resync', dryRun: false } }), { kind: 'done' });
  for (const followUp of ['stale-lock', 'auto-resync', 'lockout'] as const) assert.deepEqual(after(followUp, { cancelled: true, autoResync: true }), { kind: 'done' }, followUp);
  for (const followUp of ['none', 'pending-deletes'] as const) assert.deepEqual(after(followUp, { autoResync: true, wasInterrupted: true }), { kind: 'done' }, followUp);
});

test('after a good real resync one bisync writes the --recover backup; after a good bisync switching to checksums one settles them', () => {
  const base = { ok: true, aborted: false, hasRecover: true, settle: false };
  assert.deepEqual(afterGoodRun({ ...base, plan: { operation: 'resync', dryRun: false } }), { backupBisync: true, checksumSettle: false });
  assert.deepEqual(afterGoodRun({ ...base, plan: { operation: 'resync', dryRun: false }, hasRecover: false }), { backupBisync: false, checksumSettle: false }, '1.60 has no --recover');
  assert.deepEqual(afterGoodRun({ ...base, plan: { operation: 'resync', dryRun: true } }), { backupBisync: false, checksumSettle: false });
  assert.deepEqual(afterGoodRun({ ...base, plan: { operation: 'bisync', dryRun: false }, settle: true }), { backupBisync: false, checksumSettle: true });
  assert.deepEqual(afterGoodRun({ ...base, plan: { operation: 'resync', dryRun: false }, settle: true }), { backupBisync: true, checksumSettle: false }, 'settling follows a bisync only');
  for (const stop of [{ ok: false }, { aborted: true }]) {
    assert.deepEqual(afterGoodRun({ ...base, ...stop, plan: { operation: 'resync', dryRun: false }, settle: true }), { backupBisync: false, checksumSettle: false });
    assert.deepEqual(afterGoodRun({ ...base, ...stop, plan: { operation: 'bisync', dryRun: false }, settle: true }), { backupBisync: false, checksumSettle: false });
  }
});
