// What a job waits for and the refusal of a locked-out job, decided once (src/api/job-attention.ts): the scheduler's
// activity, the service's Sync and the runner's plan all answer from it, with the same words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLockedOut, lockoutRefusal, waitingOutcome } from '../../src/api/job-attention.js';
import { needsAttention } from '../../src/api/outcomes.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { planNextRun } from '../../src/run/rules/plan.js';
import type { JobState } from '../../src/run/types.js';
import { CAPS_175 } from '../helpers/caps.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const synced: JobState = { ...initialJobState(), resyncDone: true, filtersHash: 'f1', pairKey: 'p1', lastOutcome: 'needs-resync' };
const sideCheck = { side: 'local' as const, path: '/mnt/photos', missing: [], filesLastSeen: 10, filesNow: 0, residue: [] };

test('a job waits for the most serious thing first: a lockout, then an approval, then a side that looked missing', () => {
  assert.equal(waitingOutcome(synced), undefined);
  assert.equal(waitingOutcome({ ...synced, sideCheck }), 'check-failed');
  assert.equal(waitingOutcome({ ...synced, sideCheck, needsApproval: true }), 'needs-approval');
  assert.equal(waitingOutcome({ ...synced, sideCheck, needsApproval: true, needsResync: true }), 'needs-resync');
  for (const state of [{ ...synced, sideCheck }, { ...synced, needsApproval: true }, { ...synced, needsResync: true }]) {
    const waiting = waitingOutcome(state);
    assert.ok(waiting !== undefined && needsAttention(waiting), 'every waiting outcome is one the table says needs a person');
  }
});

test('locked out: needs-resync without auto_resync, until the user asks for a resync', () => {
  const locked = { ...synced, needsResync: true };
  assert.equal(isLockedOut(makeJob(), locked), true);
  assert.equal(isLockedOut(makeJob(), locked, { resync: false }), true);
  assert.equal(isLockedOut(makeJob(), locked, { resync: true }), false);
  assert.equal(isLockedOut(makeJob({ autoResync: true }), locked), false);
  const parked: JobState = { ...synced, needsApproval: true };
  assert.equal(isLockedOut(makeJob(), parked), false, 'a job waiting for approval keeps running: each run previews again');
});

test('the refusal names the job, says why and gives the command with the name filled in', () => {
  const e = lockoutRefusal('photos', { lastMessage: 'bisync is locked out: no trusted listings were found' });
  assert.equal(e.code, 'NeedsResync');
  assert.equal(e.message, "job 'photos' needs a resync: bisync is locked out: no trusted listings were found");
  assert.equal(e.hint, 'Check both sides, then run: rbmctl sync photos --resync');
  assert.equal(lockoutRefusal('JOB-2', { lastMessage: '' }).message, "job 'JOB-2' needs a resync: its listings are unusable");
  assert.equal(lockoutRefusal('JOB-2', { lastMessage: '' }).hint, 'Check both sides, then run: rbmctl sync JOB-2 --resync');
});

test("the runner's plan refuses with the very same error; a dry run and auto_resync are not refused", () => {
  const locked = { ...synced, needsResync: true, lastMessage: 'bisync is locked out: one side is empty', lastError: 'must run --resync' };
  const env = { caps: CAPS_175, filtersHash: 'f1', pairKey: 'p1', nowMs: 0 };
  const job = makeJob({ name: 'photos' });
  const planned = planNextRun(job, makeGlobal(), locked, {}, env);
  assert.ok('refuse' in planned);
  const expected = lockoutRefusal('photos', locked);
  assert.deepEqual([planned.refuse.code, planned.refuse.message, planned.refuse.hint], [expected.code, expected.message, expected.hint]);
  assert.ok(!('refuse' in planNextRun(job, makeGlobal(), locked, { dryRun: true }, env)));
  assert.ok(!('refuse' in planNextRun(makeJob({ name: 'photos', autoResync: true }), makeGlobal(), locked, {}, env)));
});
