// Triggers that mean what they asked for (issue 12 case 3): a dry run never merges with a real one, a dry request's
// flags never reach a real run; and runs refused by the job lock (issue 13 case 3) are reported and retried with backoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunRefusedError } from '../../src/run/rules/run-refused.js';
import type { RunRecord, RunRequest } from '../../src/run/types.js';
import { RbmError } from '../../src/errors.js';
import { nullLogger } from '../../src/ports.js';
import { addPendingRun, mergeSameKind, type PendingRun } from '../../src/scheduler/pending-runs.js';
import { afterRefusal, afterStart, retryRequestOf } from '../../src/scheduler/refused-retry.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createHarness } from '../helpers/scheduler-harness.js';
import { deferred, flush, makeJob, makeRecord, makeState } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const never = '0 0 1 1 *';
/** The next slot of `never` after T0: what nextRunMs shows when no retry is due. */
const NEXT_SLOT = Date.UTC(2025, 0, 1, 0, 0, 0);

/** The harness with job `a` running (run 1), ready for triggers that must wait. */
async function busyJob(): Promise<ReturnType<typeof createHarness>> {
  const h = createHarness({ startMs: T0, jobs: [makeJob('a', { schedule: never })] });
  h.scheduler.trigger('a', { trigger: 'manual' });
  await h.advance(0);
  assert.equal(h.scheduler.info('a')!.activity, 'running');
  return h;
}

for (const [label, dry] of [
  ['{dry_run, resync}', { dryRun: true, resync: true }],
  ['{dry_run, force}', { dryRun: true, force: true }],
] as const) {
  for (const plain of [{ trigger: 'manual' }, { trigger: 'schedule' }, { trigger: 'retry' }] as const) {
    test(`issue 12.3: ${label} then a ${plain.trigger} trigger while the job runs → a dry run with those flags and a plain real run`, async () => {
      const h = await busyJob();
      const dryId = h.scheduler.trigger('a', { trigger: 'manual', ...dry });
      const realId = h.scheduler.trigger('a', { ...plain });
      assert.notEqual(realId, dryId, 'each caller gets its own run');
      assert.equal(h.scheduler.info('a')!.queued, true);
      await h.runs[0]!.finish();
      assert.equal(h.runs.length, 2);
      assert.deepEqual(h.runs[1]!.request, { trigger: 'manual', ...dry }, 'the dry run keeps exactly its own flags');
      assert.equal(h.runs[1]!.runId, dryId);
      assert.equal(h.active().length, 1, 'never two runs of one job at once');
      await h.runs[1]!.finish();
      assert.equal(h.runs.length, 3);
      assert.deepEqual(h.runs[2]!.request, { ...plain }, 'the real run has no flag of the dry request');
      assert.equal(h.runs[2]!.runId, realId);
      await h.runs[2]!.finish();
      assert.equal(h.runs.length, 3, 'nothing else runs');
      assert.equal(h.scheduler.info('a')!.activity, 'idle');
    });
  }
}

test('the real run waiting first runs first; a later dry request runs after it', async () => {
  const h = await busyJob();
  const realId = h.scheduler.trigger('a', { trigger: 'schedule' });
  const dryId = h.scheduler.trigger('a', { trigger: 'manual', dryRun: true, force: true });
  await h.runs[0]!.finish();
  assert.deepEqual([h.runs[1]!.runId, h.runs[1]!.request], [realId, { trigger: 'schedule' }]);
  await h.runs[1]!.finish();
  assert.deepEqual([h.runs[2]!.runId, h.runs[2]!.request], [dryId, { trigger: 'manual', dryRun: true, force: true }]);
});

test('at most one pending real run and one pending dry run per job: later triggers join the run of their kind', async () => {
  const h = await busyJob();
  const dry1 = h.scheduler.trigger('a', { trigger: 'manual', dryRun: true });
  const real1 = h.scheduler.trigger('a', { trigger: 'schedule' });
  const dry2 = h.scheduler.trigger('a', { trigger: 'manual', dryRun: true, resync: true });
  const real2 = h.scheduler.trigger('a', { trigger: 'retry' });
  assert.equal(dry2, dry1);
  assert.equal(real2, real1);
  assert.equal(h.scheduler.info('a')!.currentRunId, 1, 'the running run is the current one');
  await h.finishAll();
  await h.finishAll();
  await h.finishAll();
  assert.deepEqual(
    h.runs.map((r) => [r.runId, r.request]),
    [
      [1, { trigger: 'manual' }],
      [dry1, { trigger: 'manual', dryRun: true, resync: true }],
      [real1, { trigger: 'schedule' }],
    ],
  );
});

test('cancel drops both pending runs, each with its own cancelled record', async () => {
  const h = await busyJob();
  const dry = h.scheduler.trigger('a', { dryRun: true });
  const real = h.scheduler.trigger('a', {});
  h.scheduler.cancel('a');
  const cancelled = h.events.flatMap((e) => (e.type === 'run-finished' && e.record.outcome === 'cancelled' && e.record.runId !== 1 ? [[e.record.runId, e.record.dryRun]] : []));
  assert.deepEqual(cancelled, [
    [dry, true],
    [real, false],
  ]);
  assert.deepEqual(h.scheduler.queuedJobs(), []);
});

test('mergeSameKind: a plain trigger never adds a flag; explicit flags add up; dry and real never merge', () => {
  assert.deepEqual(mergeSameKind({ trigger: 'manual', force: true }, { trigger: 'schedule' }), { force: true, trigger: 'manual' });
  assert.deepEqual(mergeSameKind({ trigger: 'schedule' }, { trigger: 'manual', resync: true }), { resync: true, trigger: 'manual' });
  assert.deepEqual(mergeSameKind({ trigger: 'retry' }, { trigger: 'schedule' }), { trigger: 'retry' });
  assert.throws(() => mergeSameKind({ dryRun: true }, {}));
  const pending: PendingRun[] = [];
  let id = 10;
  assert.deepEqual(addPendingRun(pending, { dryRun: true, force: true }, () => id++), { runId: 10, added: true });
  assert.deepEqual(addPendingRun(pending, { trigger: 'schedule' }, () => id++), { runId: 11, added: true });
  assert.deepEqual(addPendingRun(pending, { dryRun: true }, () => id++), { runId: 10, added: false });
  assert.deepEqual(pending, [
    { runId: 10, request: { dryRun: true, force: true } },
    { runId: 11, request: { trigger: 'schedule' } },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Runs the job lock refused

function refusal(runId: number, request: RunRequest, at: number): RunRefusedError {
  const record = makeRecord('x', runId, request, at, { outcome: 'locked', message: 'job x is already running (process 42)', exitCode: null });
  return new RunRefusedError(new RbmError('AlreadyRunning', 'job x is already running (process 42)'), record);
}

test('issue 13.3: a refused run is reported with its recorded run and retried with backoff until it gets through', async () => {
  const clock = new FakeClock(T0);
  let id = 1;
  const started: { runId: number; request: RunRequest; atMs: number }[] = [];
  let refuseNext = 3;
  const sched = createScheduler({
    clock,
    logger: nullLogger,
    maxParallel: 1,
    nextRunId: () => id++,
    readState: () => makeState(),
    startRun: (_job, request, runId) => {
      started.push({ runId, request, atMs: clock.now() });
      if (refuseNext > 0) {
        refuseNext--;
        return Promise.reject(refusal(runId, request, clock.now()));
      }
      return Promise.resolve(makeRecord('x', runId, request, clock.now()));
    },
  });
  const finished: RunRecord[] = [];
  sched.on((e) => {
    if (e.type === 'run-finished') finished.push(e.record);
  });
  sched.applyConfig([makeJob('x', { schedule: never })]);
  sched.start();
  sched.trigger('x', { trigger: 'manual', resync: true, force: true });
  await flush();
  assert.equal(finished.length, 1);
  assert.equal(finished[0]!.outcome, 'locked');
  assert.equal(finished[0]!.message, 'job x is already running (process 42)', 'the record the runner wrote to the history is the one reported');
  assert.equal(sched.info('x')!.nextRunMs, T0 + 30_000, 'first retry after 30 s');
  // Backoff: 30 s, then 60 s, then 120 s; each retry is a run of its own.
  for (const delay of [30_000, 60_000, 120_000]) {
    const before = started.length;
    clock.advance(delay - 1);
    await flush();
    assert.equal(started.length, before, `not retried before ${delay} ms`);
    clock.advance(1);
    await flush();
    assert.equal(started.length, before + 1, `retried after ${delay} ms`);
  }
  assert.deepEqual(
    started.map((s) => [s.atMs - T0, s.request]),
    [
      [0, { trigger: 'manual', resync: true, force: true }],
      [30_000, { trigger: 'retry', resync: true }],
      [90_000, { trigger: 'retry', resync: true }],
      [210_000, { trigger: 'retry', resync: true }],
    ],
    'a retry keeps the requested resync but never the approval (force)',
  );
  assert.deepEqual(finished.map((r) => r.outcome), ['locked', 'locked', 'locked', 'success']);
  assert.equal(sched.info('x')!.nextRunMs, NEXT_SLOT, 'nothing more to retry once a run got through');
  clock.advance(3600_000);
  await flush();
  assert.equal(started.length, 4);
});

test('a refused dry run is retried as a dry run; cancel stops the retries', async () => {
  const clock = new FakeClock(T0);
  let id = 1;
  const started: RunRequest[] = [];
  const sched = createScheduler({
    clock,
    logger: nullLogger,
    maxParallel: 1,
    nextRunId: () => id++,
    readState: () => makeState(),
    startRun: (_job, request, runId) => {
      started.push(request);
      return Promise.reject(refusal(runId, request, clock.now()));
    },
  });
  sched.applyConfig([makeJob('x', { schedule: never })]);
  sched.start();
  sched.trigger('x', { trigger: 'manual', dryRun: true, force: true });
  await flush();
  clock.advance(30_000);
  await flush();
  assert.deepEqual(started, [{ trigger: 'manual', dryRun: true, force: true }, { trigger: 'retry', dryRun: true }]);
  sched.cancel('x');
  clock.advance(3600_000);
  await flush();
  assert.equal(started.length, 2, 'no retry after cancel');
});

test('a retry under way is not retried again; the backoff ends when that run gets past the lock', async () => {
  const clock = new FakeClock(T0);
  let id = 1;
  const gate = deferred<RunRecord>();
  let calls = 0;
  const sched = createScheduler({
    clock,
    logger: nullLogger,
    maxParallel: 1,
    nextRunId: () => id++,
    readState: () => makeState(),
    startRun: (_job, request, runId) => {
      calls++;
      return calls === 1 ? Promise.reject(refusal(runId, request, clock.now())) : gate.promise;
    },
  });
  sched.applyConfig([makeJob('x', { schedule: never })]);
  sched.start();
  sched.trigger('x', {});
  await flush();
  clock.advance(30_000);
  await flush();
  assert.equal(calls, 2);
  assert.equal(sched.info('x')!.running, true);
  assert.equal(sched.info('x')!.nextRunMs, NEXT_SLOT, 'the retry is under way: no second one is due');
  clock.advance(3600_000);
  await flush();
  assert.equal(calls, 2, 'no retry overlaps the run');
  gate.resolve(makeRecord('x', 2, {}, clock.now()));
  await flush();
  assert.equal(sched.info('x')!.nextRunMs, NEXT_SLOT);
});

test('retryRequestOf / afterRefusal: force is dropped, the backoff doubles per kind', () => {
  assert.deepEqual(retryRequestOf({ trigger: 'manual', force: true }), { trigger: 'retry' });
  assert.deepEqual(retryRequestOf({ dryRun: true, resync: true, force: true }), { trigger: 'retry', resync: true, dryRun: true });
  let r = afterRefusal([], { trigger: 'schedule' }, 0);
  r = afterRefusal(r, { trigger: 'retry' }, 100);
  r = afterRefusal(r, { dryRun: true }, 100);
  assert.deepEqual(r, [
    { atMs: 100 + 60_000, refusals: 2, request: { trigger: 'retry' } },
    { atMs: 100 + 30_000, refusals: 1, request: { trigger: 'retry', dryRun: true } },
  ]);
});

test('a token-bound approval survives a refusal, and only a run carrying that token covers its retry', () => {
  const token = 'a'.repeat(64);
  assert.deepEqual(retryRequestOf({ trigger: 'manual', approvalToken: token }), { trigger: 'retry', approvalToken: token });
  const retries = afterRefusal([], { trigger: 'manual', approvalToken: token }, 0);
  assert.equal(afterStart(retries, { trigger: 'schedule' }).length, 1, 'a plain scheduled run does not do the approval');
  assert.equal(afterStart(retries, { trigger: 'manual', approvalToken: 'b'.repeat(64) }).length, 1, 'another list\'s approval does not either');
  assert.deepEqual(afterStart(retries, { trigger: 'retry', approvalToken: token }), []);
});
