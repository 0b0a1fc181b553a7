// Catch-up runs (issue 16 point 4, issue 17 point 5): the pure rule (which jobs, the jitter spread, the jobs left
// alone) and the service part over the real scheduler on a fake clock, driven by a fake system watch: a resume after
// a suspend that covered a slot, the network coming back during a retry backoff, two events close together, a run
// in flight at the resume, and stop().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobState } from '../../src/run/types.js';
import { nullLogger } from '../../src/ports.js';
import { CATCH_UP_JITTER_MS, missedSlot, planCatchUp, type CatchUpJob } from '../../src/scheduler/catch-up.js';
import { createCatchUp } from '../../src/service/catch-up.js';
import type { SystemWatch } from '../../src/service/system-watch.js';
import { UNKNOWN_FACTS, networkFactsFrom, type SystemFacts } from '../../src/sysbus/facts.js';
import { createHarness, HOUR, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob, makeState } from '../helpers/scheduler-fixtures.js';

const T0 = Date.UTC(2024, 0, 1, 0, 30, 0);
const HOURLY = '0 * * * *';
const NEVER = '0 0 1 1 *';
const UTC = 'UTC';

function ruleJob(name: string, overrides: Partial<Omit<CatchUpJob, 'state'>> = {}, state: Partial<JobState> = {}): CatchUpJob {
  return { name, config: { active: true, schedule: HOURLY }, paused: false, removed: false, running: false, queued: false, state: makeState(state), ...overrides };
}

/** Last started at 00:05, so the 01:00 slot is missed once the clock passes it. */
const ranAt0005 = { lastStartedMs: Date.UTC(2024, 0, 1, 0, 5, 0), lastOutcome: 'success' as const };
const AFTER_SLOT = Date.UTC(2024, 0, 1, 1, 20, 0);

function plan(jobs: CatchUpJob[], options: { nowMs?: number; armed?: string[]; random?: () => number } = {}) {
  return planCatchUp({ jobs, nowMs: options.nowMs ?? AFTER_SLOT, timezone: UTC, armed: new Set(options.armed ?? []), random: options.random ?? (() => 0.5) });
}

test('rule: a missed slot and a retry being waited out are caught up; a job on time, a success and a job that never ran are not', () => {
  const retrying = { lastStartedMs: AFTER_SLOT - MINUTE, lastOutcome: 'retryable' as const, retryAtMs: AFTER_SLOT + 30 * MINUTE };
  const runs = plan([
    ruleJob('missed', {}, ranAt0005),
    ruleJob('retrying', {}, retrying),
    ruleJob('locked', {}, { ...retrying, lastOutcome: 'locked' }),
    ruleJob('on-time', {}, { ...ranAt0005, lastStartedMs: Date.UTC(2024, 0, 1, 1, 0, 0) }),
    ruleJob('never-ran'),
    ruleJob('failed-hard', {}, { lastStartedMs: AFTER_SLOT - MINUTE, lastOutcome: 'failed', retryAtMs: 0 }),
  ]);
  assert.deepEqual(runs.map((r) => [r.job, r.reason]), [['missed', 'missed-slot'], ['retrying', 'retry'], ['locked', 'retry']]);
});

test('rule: inactive, paused, removed, running, queued and armed jobs are left alone', () => {
  const runs = plan([
    ruleJob('inactive', { config: { active: false, schedule: HOURLY } }, ranAt0005),
    ruleJob('paused', { paused: true }, ranAt0005),
    ruleJob('removed', { removed: true }, ranAt0005),
    ruleJob('running', { running: true }, ranAt0005),
    ruleJob('queued', { queued: true }, ranAt0005),
    ruleJob('armed', {}, ranAt0005),
    ruleJob('due', {}, ranAt0005),
  ], { armed: ['armed'] });
  assert.deepEqual(runs.map((r) => r.job), ['due']);
});

test('rule: a job waiting for a person (resync, approval, a failed side check) is not run by a catch-up, even with a missed slot or a retry', () => {
  const retrying = { lastOutcome: 'retryable' as const, retryAtMs: AFTER_SLOT + HOUR };
  const runs = plan([
    ruleJob('needs-resync', {}, { ...ranAt0005, ...retrying, needsResync: true }),
    ruleJob('needs-approval', {}, { ...ranAt0005, needsApproval: true }),
    ruleJob('check-failed', {}, { ...ranAt0005, sideCheck: { side: 'local', path: '/data/x', missing: ['files'], filesLastSeen: 3, filesNow: 0 } as unknown as JobState['sideCheck'] }),
  ]);
  assert.deepEqual(runs, []);
});

test('rule: the missed slot is the run_missed_jobs one (next slot after the later of lastScheduledMs and lastStartedMs)', () => {
  assert.equal(missedSlot(HOURLY, { lastScheduledMs: 0, lastStartedMs: 0 }, AFTER_SLOT, UTC), false);
  assert.equal(missedSlot(HOURLY, { lastScheduledMs: 0, lastStartedMs: ranAt0005.lastStartedMs }, AFTER_SLOT, UTC), true);
  assert.equal(missedSlot(HOURLY, { lastScheduledMs: Date.UTC(2024, 0, 1, 1, 0, 0), lastStartedMs: ranAt0005.lastStartedMs }, AFTER_SLOT, UTC), false);
  assert.equal(missedSlot(HOURLY, { lastScheduledMs: 0, lastStartedMs: ranAt0005.lastStartedMs }, Date.UTC(2024, 0, 1, 0, 59, 59), UTC), false);
  assert.equal(missedSlot('not a schedule', { lastScheduledMs: 0, lastStartedMs: 1 }, AFTER_SLOT, UTC), false);
});

test('rule: 50 jobs are spread over the jitter window, in config order, never two in the same millisecond, whatever the random numbers', () => {
  const jobs = Array.from({ length: 50 }, (_, i) => ruleJob(`job${String(i).padStart(2, '0')}`, {}, ranAt0005));
  for (const random of [() => 0, () => 0.999_999_999, () => 1, (() => { let x = 0.37; return () => (x = (x * 7919 + 0.13) % 1); })()]) {
    const runs = plan(jobs, { random });
    assert.equal(runs.length, 50);
    assert.deepEqual(runs.map((r) => r.job), jobs.map((j) => j.name));
    for (const r of runs) assert.ok(r.delayMs >= 0 && r.delayMs < CATCH_UP_JITTER_MS, `${r.job}: ${r.delayMs}`);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.delayMs > runs[i - 1]!.delayMs, `${runs[i]!.job} after ${runs[i - 1]!.job}`);
  }
  const one = plan([ruleJob('solo', {}, ranAt0005)], { random: () => 0.5 });
  assert.deepEqual(one.map((r) => r.delayMs), [CATCH_UP_JITTER_MS / 2]);
});

/** A system watch the test drives: change and sleep events as the monitor would send them. */
class FakeSystem implements SystemWatch {
  private current: SystemFacts;
  private readonly changeListeners = new Set<(facts: SystemFacts, before: SystemFacts) => void>();
  private readonly sleepListeners = new Set<(preparing: boolean) => void>();
  constructor(state: number, connectivity: number) {
    this.current = { ...UNKNOWN_FACTS, network: networkFactsFrom({ State: state, Connectivity: connectivity }) };
  }
  facts(): SystemFacts {
    return this.current;
  }
  on(event: 'change' | 'sleep', listener: ((facts: SystemFacts, before: SystemFacts) => void) | ((preparing: boolean) => void)): () => void {
    const set = (event === 'change' ? this.changeListeners : this.sleepListeners) as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }
  network(state: number, connectivity: number): void {
    const before = this.current;
    this.current = { ...before, network: networkFactsFrom({ State: state, Connectivity: connectivity }) };
    for (const l of this.changeListeners) l(this.current, before);
  }
  sleep(preparing: boolean): void {
    for (const l of this.sleepListeners) l(preparing);
  }
  listeners(): number {
    return this.changeListeners.size + this.sleepListeners.size;
  }
}

function world(options: Parameters<typeof createHarness>[0], random: () => number = () => 0.5) {
  const h = createHarness({ startMs: T0, ...options });
  const system = new FakeSystem(70, 4);
  const catchUp = createCatchUp({ scheduler: h.scheduler, clock: h.clock, logger: nullLogger, timezone: UTC, random });
  catchUp.watch(system);
  return { h, system, catchUp };
}

const triggers = (h: ReturnType<typeof createHarness>): string[] => h.runs.map((r) => `${r.job}:${r.request.trigger ?? ''}`);

test('resume after a suspend that covered a slot: the job runs once with trigger resume, and the scheduler does not run the slot again', async () => {
  const { h, system } = world({ jobs: [makeJob('a', { schedule: HOURLY })], states: { a: { lastStartedMs: T0 - 25 * MINUTE, lastOutcome: 'success' } } });
  system.sleep(true);
  h.clock.jump(2 * HOUR); // asleep: wall time moves, no timer fires
  system.sleep(false);
  assert.deepEqual(triggers(h), [], 'nothing before the jitter');
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:resume']);
  h.states.set('a', makeState({ lastStartedMs: h.clock.now(), lastOutcome: 'success' }));
  await h.runs[0]!.finish();
  await h.advance(5 * MINUTE); // the scheduler's own wake-up (60 s at most) sees the slot as handled
  assert.deepEqual(triggers(h), ['a:resume']);
});

test('network back during a retry backoff: the job runs at once with trigger network; the backoff retry does not fire again', async () => {
  const retryAtMs = T0 + 30 * MINUTE;
  const { h, system } = world({ jobs: [makeJob('a', { schedule: NEVER })], states: { a: { lastStartedMs: T0 - MINUTE, lastOutcome: 'retryable', consecutiveFailures: 6, retryAtMs } } });
  system.network(20, 1);
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), [], 'going offline catches nothing up');
  system.network(70, 4);
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:network']);
  assert.ok(h.runs[0]!.atMs < retryAtMs);
  await h.runs[0]!.finish({ outcome: 'retryable' }); // failed again: its state still names the old retry time
  await h.advance(40 * MINUTE);
  assert.deepEqual(triggers(h), ['a:network'], 'the retry time the catch-up brought forward is not run a second time');
});

test('NetworkManager appearing (unavailable → online) is not a return of the network', async () => {
  const { h, system } = world({ jobs: [makeJob('a', { schedule: NEVER })], states: { a: { lastStartedMs: T0 - MINUTE, lastOutcome: 'retryable', retryAtMs: T0 + HOUR } } });
  const internal = system as unknown as { current: SystemFacts };
  internal.current = UNKNOWN_FACTS;
  system.network(70, 4);
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), []);
});

test('a resume then the network coming back: one catch-up per job (armed, then running), and max_parallel_jobs holds', async () => {
  const jobs = ['a', 'b', 'c'].map((n) => makeJob(n, { schedule: HOURLY, local: `/data/${n}` }));
  const states = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, { lastStartedMs: T0 - 25 * MINUTE, lastOutcome: 'success' as const }]));
  const { h, system } = world({ jobs, states, maxParallel: 1 });
  h.clock.jump(HOUR);
  system.sleep(false);
  system.network(20, 1);
  system.network(70, 4); // inside the jitter: the armed catch-ups are enough
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:resume'], 'one at a time');
  assert.deepEqual(h.scheduler.queuedJobs(), ['b', 'c']);
  system.network(20, 1);
  system.network(70, 4); // queued and running jobs are already on their way
  await h.advance(CATCH_UP_JITTER_MS);
  for (const n of ['a', 'b', 'c']) h.states.set(n, makeState({ lastStartedMs: h.clock.now(), lastOutcome: 'success' }));
  await h.finishAll();
  await h.finishAll();
  await h.finishAll();
  await h.advance(5 * MINUTE);
  // Each job ran exactly once. The first catch-up woke the scheduler, whose own rule saw b's and c's passed slots
  // first (as its 60 s wake-up may after any resume): their records say schedule, and their catch-ups found them queued.
  assert.deepEqual(triggers(h), ['a:resume', 'b:schedule', 'c:schedule']);
});

test('a run in flight at the resume that then fails retryable is retried at once (once), with trigger resume', async () => {
  const { h, system } = world({ jobs: [makeJob('a', { schedule: NEVER })] });
  h.scheduler.trigger('a', { trigger: 'manual' });
  await h.advance(0);
  system.sleep(true);
  h.clock.jump(HOUR);
  system.sleep(false);
  const retryAtMs = h.clock.now() + 30 * 60 * MINUTE;
  h.states.set('a', makeState({ lastStartedMs: T0, lastOutcome: 'retryable', retryAtMs }));
  await h.runs[0]!.finish({ outcome: 'retryable' });
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:manual', 'a:resume']);
  await h.runs[1]!.finish({ outcome: 'retryable' }); // the catch-up failing again waits for its backoff (or the next event)
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:manual', 'a:resume']);
});

test('a run in flight at the resume that succeeds is not run again', async () => {
  const { h, system } = world({ jobs: [makeJob('a', { schedule: NEVER })] });
  h.scheduler.trigger('a', { trigger: 'manual' });
  await h.advance(0);
  system.sleep(false);
  h.states.set('a', makeState({ lastStartedMs: T0, lastOutcome: 'success' }));
  await h.runs[0]!.finish();
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['a:manual']);
});

test('a job that waits for approval is not caught up; stop() drops the armed catch-ups and unsubscribes', async () => {
  const { h, system, catchUp } = world({
    jobs: [makeJob('a', { schedule: HOURLY }), makeJob('b', { schedule: HOURLY, local: '/data/b' })],
    states: { a: { lastStartedMs: T0 - 25 * MINUTE, needsApproval: true, lastOutcome: 'needs-approval' }, b: { lastStartedMs: T0 - 25 * MINUTE, lastOutcome: 'success' } },
  });
  h.clock.jump(HOUR);
  system.sleep(false);
  assert.equal(h.clock.pendingTimers() > 0, true);
  catchUp.stop();
  assert.equal(system.listeners(), 0);
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h).filter((t) => t.endsWith(':resume')), []);
});

test('a job that waits for approval is left alone by the catch-up (its own schedule previews again), the others are caught up', async () => {
  const { h, system } = world({
    jobs: [makeJob('a', { schedule: HOURLY }), makeJob('b', { schedule: HOURLY, local: '/data/b' })],
    states: { a: { lastStartedMs: T0 - 25 * MINUTE, needsApproval: true, lastOutcome: 'needs-approval' }, b: { lastStartedMs: T0 - 25 * MINUTE, lastOutcome: 'success' } },
  });
  h.clock.jump(HOUR);
  system.sleep(false);
  await h.advance(CATCH_UP_JITTER_MS);
  assert.deepEqual(triggers(h), ['b:resume', 'a:schedule'], 'a runs only by its own slot, which the scheduler noticed when b was queued');
});
