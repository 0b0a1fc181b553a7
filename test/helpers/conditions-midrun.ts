// Issue 17's mid-run cases through the real service process, with the running rclone frozen (SIGSTOP, as a suspend
// freezes it) while the world changes, so what the service does is asserted while rclone cannot move on, on a machine
// of any speed (test/helpers/frozen-rclone.ts): a switch to a metered connection, a time window that ends (on a fake
// wall clock: test/helpers/fake-wall-clock.ts), PrepareForSleep(true/false). On rclone >= 1.66 a window end or a
// metered switch stops the run gracefully (one SIGTERM, no lockout) and it runs again as an ordinary bisync once the
// conditions are met; on 1.60 the run finishes (a signal would force a resync). Files are checked by sha256: nothing
// truncated on either side, both sides equal in the end. Used by test/integration/conditions-*.test.ts (1.75) and
// test/compat/conditions-*.test.ts (1.60).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { treeHashes } from './engine-env.js';
import { fakeWallClock, type FakeWallClock } from './fake-wall-clock.js';
import { FROZEN_BWLIMIT, freezeBisync, type FrozenRclone } from './frozen-rclone.js';
import type { Suite } from './service-env.js';
import { rcloneVersion } from './tools.js';
import { JOB, METERED_NO, METERED_YES, countStarted, finished, slowFiles, startConditionsWorld, started, transferring, writeTree, type ConditionsWorld } from './conditions-scenarios.js';

const RATE = `    rclone_options:\n      bwlimit: "${FROZEN_BWLIMIT}"`;
const ENDS_OK = ['success', 'no-changes'];

interface FrozenBisync {
  runId: bigint;
  rclone: FrozenRclone;
  /** sha256 of the local tree the run syncs (nothing on the remote may differ from it). */
  expected: Record<string, string>;
}

/**
 * The step a scenario is at: a scenario cut short (a wait that never ended, the test's time limit) prints its last
 * step, the service's signals and its log, so a rare hang says where it was.
 */
function stepsOf(t: TestContext, w: ConditionsWorld): (step: string) => void {
  let last = 'started';
  let done = false;
  t.after(() => {
    if (done) return;
    const signals = JSON.stringify(w.signals.filter((s) => s.kind !== 'job-progress'), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    console.error(`cut short after the step "${last}"\nsignals: ${signals}\nservice log:\n${w.daemonOutput()}`);
  });
  return (step) => {
    last = step;
    if (step === 'done') done = true;
  };
}

function graceful(suite: Suite): boolean {
  return rcloneVersion(suite.rclone!).minor >= 66;
}

/**
 * The pair's first run (its resync, which always finishes) by hand, then new files and a bisync that respects the
 * conditions, frozen once its large file is in flight.
 */
async function frozenBisync(t: TestContext, w: ConditionsWorld): Promise<FrozenBisync> {
  const initial = await w.rbmctl(['sync', JOB, '--wait']);
  assert.equal(initial.code, 0, initial.stdout + initial.stderr);
  writeTree(w.local, slowFiles());
  const expected = treeHashes(w.local);
  const queued = await w.rbmctl(['sync', JOB, '--respect-conditions']);
  assert.equal(queued.code, 0, queued.stdout + queued.stderr);
  const run = await w.until('the bisync', started(2));
  assert.equal(run.operation, 'bisync');
  await w.until('bytes in flight', transferring(run.runId));
  return { runId: run.runId, rclone: await freezeBisync(t, w.daemonPid), expected };
}

/** While rclone is frozen: it is still stopped, the run has not ended, and the job shows running. */
async function assertHeld(w: ConditionsWorld, frozen: FrozenBisync, what: string): Promise<void> {
  assert.equal(frozen.rclone.state(), 'T', `${what}: rclone is still frozen`);
  assert.equal(finished(frozen.runId)(w.signals), undefined, `${what}: the run has not ended while rclone is frozen`);
  const job = (await w.client.status()).jobs.find((j) => j.name === JOB)!;
  assert.equal(job.state, 'running', `${what}: the job shows its run in flight`);
}

/** Nothing on either side is truncated or foreign: every remote file is a local file, byte for byte. */
function assertNothingTruncated(w: ConditionsWorld, expected: Record<string, string>, what: string): void {
  assert.deepEqual(treeHashes(w.local), expected, `${what}: the local tree is as written`);
  const remote = treeHashes(w.remote);
  for (const [name, hash] of Object.entries(remote)) assert.equal(hash, expected[name], `${what}: remote ${name} is whole (sha256)`);
}

async function jobStatus(w: ConditionsWorld) {
  return (await w.client.status()).jobs.find((j) => j.name === JOB)!;
}

/**
 * After the change that ends the conditions: on 1.60 the service lets the run finish (no signal while it is frozen)
 * and it converges at once; on >= 1.66 it sends one SIGTERM (pending while rclone is frozen), the run ends as a
 * graceful stop (no lockout) and is queued again. Returns the stopped run's JobFinished result.
 */
async function judgedWhileFrozen(w: ConditionsWorld, frozen: FrozenBisync, suite: Suite, why: RegExp): Promise<string> {
  const finishes = /the run conditions are no longer met; the run finishes/;
  const stops = /stopping the run for its run conditions; it runs again when they are met/;
  if (!graceful(suite)) {
    assert.match(await w.outputLine(finishes, stops), why);
  } else {
    assert.match(await w.outputLine(stops, finishes), why);
    await w.outputLine(/stopping rclone gracefully \(SIGTERM\)/);
  }
  await assertHeld(w, frozen, 'after the change');
  frozen.rclone.thaw();
  const end = await w.until('its end', finished(frozen.runId));
  const job = await jobStatus(w);
  assert.equal(job.needs_resync, false, `never a lockout\n${w.daemonOutput()}`);
  assert.notEqual(job.state, 'running', 'the ended run is not shown running');
  assertNothingTruncated(w, frozen.expected, 'after the stop');
  if (!graceful(suite)) {
    assert.equal(end.result, 'success', `1.60: the run finishes\n${w.daemonOutput()}`);
    assert.doesNotMatch(w.daemonOutput(), /stopping rclone/, '1.60: no signal was sent');
    assert.equal(job.waiting, '', 'nothing queued again');
    w.assertConverged('1.60: the run finished');
    assert.equal(countStarted(w.signals), 2);
    return end.result;
  }
  // One SIGTERM: rclone lets the transfers in flight finish and saves its listings. What it finished is a success "a
  // stop was requested"; a run cut before the end is cancelled. Never a lockout either way.
  assert.ok(['success', 'cancelled'].includes(end.result), `the graceful stop's own record: ${end.result}\n${w.daemonOutput()}`);
  // Either way the record says what stopped it (its run conditions) and, when cut, that it runs again by itself.
  assert.match(end.details.message, end.result === 'success' ? /a stop was requested for its run conditions/ : /stopped for its run conditions/);
  if (end.result === 'cancelled') assert.match(end.details.hint ?? '', /runs again by itself when its run conditions are met/);
  return end.result;
}

/**
 * The config without the tight bwlimit, saved by rename; resolves once the service's file watcher has reloaded it
 * (ConfigReloaded), so no reload of its own comes later. After a graceful stop rclone may have had to drop the large
 * file (a cut transfer): the run in the next window must not copy it again at 10 KiB/s.
 */
async function withoutRate(w: ConditionsWorld): Promise<void> {
  const text = readFileSync(w.env.configPath, 'utf8');
  assert.ok(text.includes(RATE), 'the config holds the bwlimit');
  const reloadsBefore = w.signals.filter((s) => s.kind === 'config-reloaded').length;
  w.env.saveConfigByRename(text.replace(`${RATE}\n`, ''));
  const reloaded = await w.until('the reload of the saved config', (signals) => signals.filter((s) => s.kind === 'config-reloaded')[reloadsBefore]);
  assert.deepEqual(reloaded, { kind: 'config-reloaded', ok: true, error: '' });
}

/** The run queued again after a graceful stop starts as an ordinary bisync (no resync forced) and converges. */
async function runsAgainAndConverges(w: ConditionsWorld, what: string): Promise<void> {
  const again = await w.until('the run again', started(3));
  assert.equal(again.operation, 'bisync', 'an ordinary bisync: no resync forced');
  const last = await w.until('its end', finished(again.runId));
  assert.ok(ENDS_OK.includes(last.result), `${last.result}\n${w.daemonOutput()}`);
  assert.equal((await jobStatus(w)).needs_resync, false);
  w.assertConverged(what);
}

/**
 * A switch to a metered connection while the bisync is frozen mid-transfer (review item a): 1.60 lets it finish;
 * >= 1.66 stops it gracefully, it waits while metered, then runs as a bisync and converges.
 */
export async function meteredDuringRun(t: TestContext, suite: Suite): Promise<void> {
  const w = await startConditionsWorld(t, suite, { job: `    run_conditions:\n      metered: avoid\n${RATE}`, metered: METERED_NO });
  const step = stepsOf(t, w);
  const frozen = await frozenBisync(t, w);
  step('frozen; metered yes');
  await w.setMetered(METERED_YES);
  await judgedWhileFrozen(w, frozen, suite, /metered connection/);
  step('the stopped run ended');
  if (graceful(suite)) {
    await w.waitsWith('metered connection');
    assert.equal(countStarted(w.signals), 2, 'not again while metered');
    step('waits; metered no');
    await withoutRate(w);
    await w.setMetered(METERED_NO);
    await runsAgainAndConverges(w, 'converged once unmetered');
  }
  step('done');
}

/** Monday 7 December 2026 (UTC), the fake day of the window test. */
const DAY = '2026-12-07';
const WINDOWS = `    run_conditions:\n      windows: ["10:00-11:00", "11:30-12:00"]\n${RATE}`;

/**
 * Take the service's window timer across a window change: the clock is held one second before it while the config is
 * reloaded (a reload arms the timer again from the wall clock: one second), then runs on from the change itself, so
 * the timer fires there (its real one-second delay has passed and the wall clock says the change has come) however
 * slow the reload or the machine. Only the reload sees a held clock: the runs and their ends see one that runs.
 */
async function crossWindowChange(w: ConditionsWorld, clock: FakeWallClock, before: string, at: string): Promise<void> {
  clock.set(`${DAY} ${before}`);
  await w.client.reload();
  clock.set(`@${DAY} ${at}`);
}

/**
 * A time window that ends during a real bisync (issue 17 "a window end during a real rclone run, both versions"):
 * windows 10:00-11:00 and 11:30-12:00 on a fake wall clock; the bisync starts at 10:30 and is frozen mid-transfer;
 * the service's own window timer fires at 11:00 (crossWindowChange). 1.60 lets the run finish (converged
 * at once); >= 1.66 stops it gracefully (no lockout, nothing truncated), it waits "outside its time window" and the
 * next window (11:30) runs it as an ordinary bisync that converges.
 */
export async function windowEndDuringRun(t: TestContext, suite: Suite): Promise<void> {
  const clock = fakeWallClock(t, `@${DAY} 10:30:00`);
  const w = await startConditionsWorld(t, suite, { job: WINDOWS, daemonEnv: clock.env });
  const step = stepsOf(t, w);
  const frozen = await frozenBisync(t, w);
  step('frozen; the window ends');
  await crossWindowChange(w, clock, '10:59:59', '11:00:00');
  await judgedWhileFrozen(w, frozen, suite, /its time window ended/);
  step('the stopped run ended');
  if (graceful(suite)) {
    await w.waitsWith('outside its time window (next opens Mon 11:30)');
    assert.equal(countStarted(w.signals), 2, 'not again outside the windows');
    step('waits; the next window opens');
    await withoutRate(w);
    await crossWindowChange(w, clock, '11:29:59', '11:30:00');
    await runsAgainAndConverges(w, 'converged in the next window');
  }
  step('done');
}

/**
 * PrepareForSleep(true) while the bisync is frozen (as the machine freezes it), then rclone thawed and
 * PrepareForSleep(false) (review item b): the run ends by itself as a success, the job is not left running, no
 * lockout, both sides equal by sha256.
 */
export async function sleepDuringFrozenRun(t: TestContext, suite: Suite): Promise<void> {
  const w = await startConditionsWorld(t, suite, { job: RATE });
  const step = stepsOf(t, w);
  const frozen = await frozenBisync(t, w);
  step('frozen; suspending');
  await w.prepareForSleep(true);
  await w.outputLine(/the machine is suspending/);
  await assertHeld(w, frozen, 'suspended');
  frozen.rclone.thaw();
  await w.prepareForSleep(false);
  await w.outputLine(/the machine resumed/);
  step('thawed and resumed');
  const end = await w.until('its end', finished(frozen.runId));
  assert.equal(end.result, 'success', w.daemonOutput());
  const job = await jobStatus(w);
  assert.equal(job.state, 'idle', 'the job is not left running');
  assert.equal(job.needs_resync, false, 'no lockout');
  assert.doesNotMatch(w.daemonOutput(), /stopping rclone/, 'a suspend sends rclone nothing');
  assertNothingTruncated(w, frozen.expected, 'after the resume');
  w.assertConverged('after the suspend');
  step('done');
}
