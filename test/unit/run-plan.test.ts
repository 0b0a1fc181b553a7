// Which run comes next, and how a finished run changes the job's state (pure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialJobState, parseJobState } from '../../src/run/rules/job-state.js';
import { applyRunResult, planNextRun, recordedPairKey, type PlanEnv, type RunPlan } from '../../src/run/rules/plan.js';
import { retryDelayMs, RETRY_MAX_MS } from '../../src/run/rules/retry.js';
import type { JobState, Outcome, RunRecord } from '../../src/run/types.js';
import { RbmError } from '../../src/errors.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const env: PlanEnv = { caps: CAPS_175, filtersHash: 'f1', pairKey: 'p1', nowMs: 1_000_000 };
const synced: JobState = { ...initialJobState(), resyncDone: true, filtersHash: 'f1', pairKey: 'p1', lastRunId: 3, lastOutcome: 'success' };

function plan(state: JobState, request = {}, job = makeJob(), e: PlanEnv = env): RunPlan {
  const result = planNextRun(job, makeGlobal(), state, request, e);
  if ('refuse' in result) throw result.refuse;
  return result;
}

function record(outcome: Outcome, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: 4, job: 'docs', operation: 'bisync', trigger: 'schedule', dryRun: false, startedMs: 2_000, finishedMs: 3_000, exitCode: 0, signal: null,
    outcome, message: outcome, hint: '', counts: { filesTransferred: 0, bytesTransferred: 0, deletes: 0, renames: 0, errors: 0 },
    conflicts: [], hashWarnings: 0, errorText: outcome === 'success' ? '' : 'boom', tail: [], ...extra,
  };
}

const facts = { lockout: false, pendingDeletes: [], filtersHash: 'f2', pairKey: 'p2' };

test('first run resyncs, with --resync-mode newer where rclone has it', () => {
  const p = plan(initialJobState());
  assert.equal(p.operation, 'resync');
  assert.equal(p.reason, 'first-run');
  assert.equal(p.resyncMode, 'newer');
  assert.equal(plan(initialJobState(), {}, makeJob(), { ...env, caps: CAPS_160 }).resyncMode, undefined);
});

test('force_resync resyncs once while set, and again only after it was removed and set again', () => {
  const forced = makeJob({ forceResync: true });
  assert.equal(plan(synced, {}, forced).reason, 'force-resync');
  const after = applyRunResult(synced, record('success', { operation: 'resync' }), { ...facts, filtersHash: 'f1', pairKey: recordedPairKey('p1', forced) });
  assert.equal(plan(after, {}, forced).operation, 'bisync', 'the next run is a plain bisync');
  const unset = applyRunResult(after, record('success'), { ...facts, filtersHash: 'f1', pairKey: recordedPairKey('p1', makeJob()) });
  assert.equal(plan(after, {}, makeJob()).operation, 'bisync', 'removing the setting is not a pair change');
  assert.equal(plan(unset, {}, forced).reason, 'force-resync', 'setting it again asks for a new resync');
});

test('request.resync, a changed pair and changed filters each lead to a resync', () => {
  const requested = plan(synced, { resync: true });
  assert.equal(requested.reason, 'requested');
  assert.equal(requested.resyncMode, undefined, "the user's resync keeps rclone's default mode");
  assert.equal(plan(synced, {}, makeJob(), { ...env, pairKey: 'other' }).reason, 'pair-changed');
  assert.equal(plan(synced, {}, makeJob(), { ...env, filtersHash: 'f9' }).reason, 'filters-changed');
});

test('a synced job runs a plain bisync; force comes only from the request or force_operation', () => {
  const p = plan(synced);
  assert.deepEqual([p.operation, p.force, p.dryRun], ['bisync', false, false]);
  assert.equal(plan(synced, { force: true }).force, true);
  assert.equal(plan(synced, {}, makeJob({ forceOperation: true })).force, true);
});

test('dry run comes from the request, the job or the global setting', () => {
  assert.equal(plan(synced, { dryRun: true }).dryRun, true);
  assert.equal(plan(synced, {}, makeJob({ dryRun: true })).dryRun, true);
  const g = planNextRun(makeJob(), makeGlobal({ dryRun: true }), synced, {}, env);
  assert.ok(!('refuse' in g) && g.dryRun);
});

test('needs-resync refuses until the user asks for a resync, unless auto_resync', () => {
  const locked = { ...synced, needsResync: true, lastError: 'must run --resync' };
  const r = planNextRun(makeJob(), makeGlobal(), locked, {}, env);
  assert.ok('refuse' in r);
  assert.ok(r.refuse instanceof RbmError);
  assert.equal(r.refuse.code, 'NeedsResync');
  assert.match(r.refuse.hint ?? '', /rbmctl sync docs --resync/);
  assert.equal(plan(locked, { resync: true }).operation, 'resync');
  const auto = plan(locked, {}, makeJob({ autoResync: true }));
  assert.deepEqual([auto.operation, auto.reason, auto.resyncMode], ['resync', 'auto-resync', 'newer']);
});

test('a job waiting for approval runs a plain bisync (rclone checks again), and --force only when forced', () => {
  const waiting = { ...synced, needsApproval: true, pendingDeletes: ['/r/a', '/r/b'] };
  const again = plan(waiting, {});
  assert.deepEqual([again.operation, again.force], ['bisync', false], 'no refusal: the run previews again and heals or parks');
  assert.equal(plan(waiting, { approvalToken: 'a'.repeat(64) }).force, false, 'an approval alone never adds --force');
  const approved = plan(waiting, { force: true });
  assert.deepEqual([approved.operation, approved.force], ['bisync', true]);
  assert.equal(plan(waiting, { dryRun: true }).force, false, 'a dry run is allowed and never forced');
});

test('a successful resync records the filters and pair it was made with and clears the lockout', () => {
  const before = { ...initialJobState(), needsResync: true, interrupted: true };
  const after = applyRunResult(before, record('success', { operation: 'resync' }), facts);
  assert.deepEqual([after.resyncDone, after.needsResync, after.filtersHash, after.pairKey, after.interrupted], [true, false, 'f2', 'p2', false]);
  assert.equal(applyRunResult(before, record('failed', { operation: 'resync' }), facts).pairKey, '', 'a failed run records no pair');
  assert.equal(after.lastOutcome, 'success');
  assert.equal(after.lastRunId, 4);
});

test('success resets failures and approvals; conflicts are success too', () => {
  const before = { ...synced, consecutiveFailures: 3, retryAtMs: 99, needsApproval: true, pendingDeletes: ['x'] };
  for (const outcome of ['success', 'no-changes', 'conflicts'] as const) {
    const after = applyRunResult(before, record(outcome), facts);
    assert.deepEqual([after.consecutiveFailures, after.retryAtMs, after.needsApproval, after.pendingDeletes.length], [0, 0, false, 0]);
    assert.equal(after.filtersHash, 'f1', 'a bisync does not change the recorded filters');
  }
});

test('needs-approval records the pending deletes', () => {
  const after = applyRunResult(synced, record('needs-approval'), { ...facts, pendingDeletes: ['box:a', 'box:b'] });
  assert.equal(after.needsApproval, true);
  assert.deepEqual(after.pendingDeletes, ['box:a', 'box:b']);
});

test('retryable failures back off exponentially from the finish time; failures count up', () => {
  let state = synced;
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    state = applyRunResult(state, record('retryable'), facts);
    delays.push(state.retryAtMs - 3_000);
  }
  assert.deepEqual(delays, [30_000, 60_000, 120_000]);
  assert.equal(state.consecutiveFailures, 3);
  assert.equal(applyRunResult(state, record('success'), facts).retryAtMs, 0);
});

test('a lockout sets needs-resync; a failed run is not retried on its own', () => {
  assert.equal(applyRunResult(synced, record('needs-resync'), { ...facts, lockout: true }).needsResync, true);
  const failed = applyRunResult(synced, record('failed'), facts);
  assert.deepEqual([failed.consecutiveFailures, failed.retryAtMs, failed.lastError], [1, 0, 'boom']);
});

test('a dry run changes no state', () => {
  assert.equal(applyRunResult(synced, record('needs-approval', { dryRun: true }), { ...facts, pendingDeletes: ['x'] }), synced);
});

test('hash warnings are flagged on the job and cleared by a clean run', () => {
  const warned = applyRunResult(synced, record('success', { hashWarnings: 4 }), facts);
  assert.equal(warned.hashWarning, true);
  assert.equal(applyRunResult(warned, record('success'), facts).hashWarning, false);
});

test('retry delay is capped', () => {
  assert.equal(retryDelayMs(0), 30_000);
  assert.equal(retryDelayMs(1), 30_000);
  assert.equal(retryDelayMs(7), RETRY_MAX_MS);
  assert.equal(retryDelayMs(1000), RETRY_MAX_MS);
});

test('state validation accepts a real state and rejects damaged ones', () => {
  const good = JSON.parse(JSON.stringify(synced));
  assert.deepEqual(parseJobState(good), synced);
  for (const bad of [null, 7, 'x', [], { ...good, version: 2 }, { ...good, lastOutcome: 'weird' }, { ...good, pendingDeletes: [1] }, { ...good, resyncDone: 'yes' }, { ...good, retryAtMs: -1 }]) {
    assert.equal(parseJobState(bad), undefined, JSON.stringify(bad));
  }
});
