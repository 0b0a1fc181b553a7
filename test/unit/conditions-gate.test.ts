// Run conditions in the service (issue 17 points 2, 3, 6): a trigger that falls while a condition is unmet waits and
// says why; it starts on the monitor's change (no timer, no polling) or at the ONE window timer; a manual run runs
// anyway unless it respects the conditions; a window end stops a run on >= 1.66 (and queues it again) and lets it
// finish on 1.60; no system bus: the conditions count as met, said once. Fake clock and a fake monitor; the real
// system bus and rclone are in test/integration/conditions-service.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { NO_CONDITIONS } from '../../src/conditions/evaluate.js';
import type { RunConditions } from '../../src/conditions/types.js';
import { parseWindow } from '../../src/conditions/windows.js';
import type { JobConfig, RcloneCapabilities } from '../../src/config/types.js';
import type { SystemMonitor } from '../../src/platform/system-monitor.js';
import type { Logger } from '../../src/ports.js';
import { nullLogger } from '../../src/ports.js';
import { mergeSameKind } from '../../src/scheduler/pending-runs.js';
import { respectsConditions } from '../../src/scheduler/run-gate.js';
import { CHECKING_TEXT, createConditionsGate, type ConditionsGate } from '../../src/service/conditions-gate.js';
import { createEventHub } from '../../src/service/events.js';
import { UNKNOWN_FACTS, type SystemFacts } from '../../src/sysbus/facts.js';
import { createHarness, type Harness } from '../helpers/scheduler-harness.js';
import { conditionsStopOf } from '../../src/run/rules/stop-policy.js';
import { createService } from '../../src/service/service.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner, makeConfig } from '../helpers/fake-runner.js';
import { quietNotifier } from '../helpers/health-world.js';
import { flush, makeJob } from '../helpers/scheduler-fixtures.js';

/** Monday 2024-01-01 12:00 UTC. */
const MON_NOON = Date.UTC(2024, 0, 1, 12, 0, 0);
const HOUR = 3_600_000;
const never = '0 0 1 1 *';
const MODERN = { version: '1.75.2' } as RcloneCapabilities;
const OLD = { version: '1.60.1' } as RcloneCapabilities;

const onAc: SystemFacts = {
  network: { available: true, state: 'connected-global', connectivity: 'full', metered: false },
  power: { available: true, onBattery: false, batteryPercent: 80 },
  sleep: { available: true },
};

/** A SystemMonitor double: the test sets the facts and emits change/sleep like the real monitor does. */
function fakeMonitor(initial: SystemFacts, ready: Promise<void> = Promise.resolve()) {
  const events = new EventEmitter();
  let current = initial;
  const monitor: SystemMonitor = {
    ready,
    facts: () => current,
    on(event: 'change' | 'sleep', listener: (...args: never[]) => void) {
      const call = (...args: unknown[]): void => (listener as (...a: unknown[]) => void)(...args);
      events.on(event, call);
      return () => events.off(event, call);
    },
    close: () => Promise.resolve(),
  };
  return {
    monitor,
    set(next: SystemFacts): void {
      const before = current;
      current = next;
      events.emit('change', next, before);
    },
    sleep(preparing: boolean): void {
      events.emit('sleep', preparing);
    },
  };
}

function conditions(over: Partial<RunConditions>): RunConditions {
  return { ...NO_CONDITIONS, ...over };
}

function windows(...texts: string[]): RunConditions['windows'] {
  return texts.map((text) => {
    const parsed = parseWindow(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.window;
  });
}

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { ...nullLogger, warn: (message: string) => warnings.push(message), child: () => logger };
  return { logger, warnings };
}

interface World {
  h: Harness;
  gate: ConditionsGate;
  monitor: ReturnType<typeof fakeMonitor> | undefined;
}

interface WorldOptions {
  facts?: SystemFacts;
  noSystem?: boolean;
  /** The rclone each run reports when it starts (the runner's RunHooks.onStarted); default 1.75. */
  caps?: RcloneCapabilities;
  /** false: the test reports the runs' starts itself (gate.runStarted), as the runner does after preparing a run. */
  reportStarts?: boolean;
  logger?: Logger;
  ready?: Promise<void>;
  maxParallel?: number;
}

async function world(jobs: JobConfig[], options: WorldOptions = {}): Promise<World> {
  const monitor = options.noSystem === true ? undefined : fakeMonitor(options.facts ?? onAc, options.ready);
  // The scheduler asks the gate only once a run is queued, after the gate below exists.
  const h = createHarness({ startMs: MON_NOON, jobs, timezone: 'UTC', mayStart: (job, request) => gate.mayStart(job, request), ...(options.maxParallel === undefined ? {} : { maxParallel: options.maxParallel }) });
  const events = createEventHub(nullLogger);
  const gate = createConditionsGate({ clock: h.clock, logger: options.logger ?? nullLogger, timezone: 'UTC', system: monitor?.monitor, events, jobs: () => jobs });
  // Every run the scheduler starts reports its rclone at once, as the runner's onStarted does (service/scheduling.ts).
  h.scheduler.on((e) => {
    if (e.type === 'run-started' && options.reportStarts !== false) gate.runStarted(e.job, e.runId, h.scheduler.info(e.job)?.runRequest?.resync === true ? 'resync' : 'bisync', options.caps ?? MODERN);
    if (e.type === 'run-finished') events.emit('jobFinished', e.record);
  });
  gate.attach(h.scheduler);
  gate.configChanged();
  await flush();
  return { h, gate, monitor };
}

const metered = (facts: SystemFacts, value: boolean | undefined): SystemFacts => ({ ...facts, network: { ...facts.network, metered: value } });
const battery = (facts: SystemFacts, onBattery: boolean): SystemFacts => ({ ...facts, power: { ...facts.power, onBattery } });

test('a scheduled run on a metered connection waits and says why; the connection turning unmetered starts it at once', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, monitor } = await world([job], { facts: metered(onAc, true) });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.runs.length, 0, 'no run on a metered connection');
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
  assert.equal(h.scheduler.info('docs')!.activity, 'queued');
  assert.equal(h.clock.pendingTimers(), 1, 'only the scheduler timer: no polling for the condition');
  monitor!.set(metered(onAc, false));
  await flush();
  assert.equal(h.runs.length, 1, 'runs on the change, without any time passing');
  assert.equal(h.runs[0]!.request.trigger, 'schedule');
  assert.equal(h.scheduler.info('docs')!.waiting, '');
});

test('power: ac — on battery a missed run waits ("on battery"), back on AC it runs', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ power: { kind: 'ac' } }) });
  const { h, monitor } = await world([job], { facts: battery(onAc, true) });
  h.scheduler.trigger('docs', { trigger: 'missed' });
  await flush();
  assert.equal(h.runs.length, 0);
  assert.equal(h.scheduler.info('docs')!.waiting, 'on battery');
  monitor!.set(battery(onAc, false));
  await flush();
  assert.equal(h.runs.length, 1);
});

test('a manual sync runs anyway; --respect-conditions waits like a scheduled one', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ power: { kind: 'ac' } }) });
  const { h, monitor } = await world([job], { facts: battery(onAc, true) });
  h.scheduler.trigger('docs', { trigger: 'manual' });
  await flush();
  assert.equal(h.runs.length, 1, 'the manual run starts on battery');
  await h.runs[0]!.finish();
  h.scheduler.trigger('docs', { trigger: 'manual', respectConditions: true });
  await flush();
  assert.equal(h.runs.length, 1, 'the respecting run waits');
  assert.equal(h.scheduler.info('docs')!.waiting, 'on battery');
  monitor!.set(battery(onAc, false));
  await flush();
  assert.equal(h.runs.length, 2);
  assert.deepEqual(h.runs[1]!.request, { trigger: 'manual', respectConditions: true });
});

test('a plain manual sync joining a waiting scheduled run starts it now; a respecting one keeps it waiting', () => {
  assert.equal(respectsConditions(mergeSameKind({ trigger: 'schedule' }, { trigger: 'manual' })), false);
  assert.equal(respectsConditions(mergeSameKind({ trigger: 'manual' }, { trigger: 'retry' })), false);
  assert.equal(respectsConditions(mergeSameKind({ trigger: 'schedule' }, { trigger: 'manual', respectConditions: true })), true);
  assert.equal(respectsConditions(mergeSameKind({ trigger: 'schedule' }, { trigger: 'retry' })), true);
});

test('a change that does not concern the job does not start it (the battery moving for a metered-only job)', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, monitor } = await world([job], { facts: metered(onAc, true) });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  monitor!.set(battery(metered(onAc, true), true));
  await flush();
  assert.equal(h.runs.length, 0);
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
});

test('a window on a fake clock: the run waits for it with ONE timer, starts when it opens, is stopped at its end (1.75) and runs again in the next window', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ windows: windows('22:00-06:00') }) });
  const { h } = await world([job]);
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.runs.length, 0);
  assert.equal(h.scheduler.info('docs')!.waiting, 'outside its time window (next opens Mon 22:00)');
  assert.equal(h.clock.pendingTimers(), 2, "the scheduler's timer and the one window timer");
  await h.advance(10 * HOUR - 1);
  assert.equal(h.runs.length, 0, 'not a millisecond early');
  await h.advance(1);
  assert.equal(h.runs.length, 1, 'starts at 22:00');
  const first = h.runs[0]!;
  await h.advance(8 * HOUR); // Tuesday 06:00: the window ends
  assert.equal(first.signal.aborted, true, 'stopped gracefully (the runner sends one SIGTERM on >= 1.66)');
  await first.finish({ outcome: 'cancelled' });
  assert.equal(h.runs.length, 1, 'not again outside the window');
  assert.equal(h.scheduler.info('docs')!.waiting, 'outside its time window (next opens Tue 22:00)');
  assert.equal(h.scheduler.info('docs')!.queued, true, 'the trigger stays pending for the next window');
  await h.advance(16 * HOUR);
  assert.equal(h.runs.length, 2, 'the next window runs it');
  assert.equal(h.runs[1]!.request.trigger, 'schedule');
});

test('a window end on rclone 1.60 lets the run finish (a stop would force a resync), and a resync always finishes', async () => {
  for (const [caps, request, why] of [
    [OLD, { trigger: 'schedule' }, '1.60'],
    [MODERN, { trigger: 'schedule', resync: true }, 'resync'],
  ] as const) {
    const job = makeJob('docs', { schedule: never, runConditions: conditions({ windows: windows('22:00-06:00') }) });
    const { h } = await world([job], { caps });
    await h.advance(10 * HOUR);
    h.scheduler.trigger('docs', { ...request });
    await flush();
    assert.equal(h.runs.length, 1, why);
    await h.advance(8 * HOUR);
    assert.equal(h.runs[0]!.signal.aborted, false, `${why}: the run is let finish`);
    await h.runs[0]!.finish();
    assert.equal(h.scheduler.info('docs')!.queued, false, `${why}: nothing queued again`);
  }
});

test('a metered switch during a run stops it on 1.75 and queues it again; a manual run is not stopped', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, monitor } = await world([job]);
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  monitor!.set(metered(onAc, true));
  await flush();
  assert.equal(h.runs[0]!.signal.aborted, true);
  await h.runs[0]!.finish({ outcome: 'cancelled' });
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
  monitor!.set(metered(onAc, false));
  await flush();
  assert.equal(h.runs.length, 2, 'runs again once unmetered');
  await h.runs[1]!.finish();
  h.scheduler.trigger('docs', { trigger: 'manual' });
  await flush();
  monitor!.set(metered(onAc, true));
  await flush();
  assert.equal(h.runs[2]!.signal.aborted, false, 'a run the user asked for by hand is not stopped');
});

test('no system bus at all: conditions count as met and the log says once which are not available', async () => {
  const { logger, warnings } = recordingLogger();
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid', power: { kind: 'ac' } }) });
  const { h, gate } = await world([job], { noSystem: true, logger });
  assert.deepEqual(warnings, ['run conditions not available here (counted as met): metered (NetworkManager is not on the system bus), power (UPower is not on the system bus)'], 'said at load');
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.runs.length, 1, 'runs as if met');
  await h.runs[0]!.finish();
  h.scheduler.trigger('docs', { trigger: 'retry' });
  gate.configChanged();
  await flush();
  assert.equal(h.runs.length, 2);
  assert.equal(warnings.length, 1, 'said once');
  assert.equal(gate.noteOf('docs'), warnings[0], 'the status carries the same line');
});

test('before the system bus answered, a job with a metered condition waits ("checking"), then runs', async () => {
  let answer: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (answer = resolve));
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h } = await world([job], { facts: UNKNOWN_FACTS, ready });
  h.scheduler.trigger('docs', { trigger: 'startup' });
  await flush();
  assert.equal(h.scheduler.info('docs')!.waiting, CHECKING_TEXT);
  answer();
  await flush();
  assert.equal(h.runs.length, 1, 'NetworkManager missing: counted as met once the reading is done');
});

test('a resume judges the windows again from the wall clock (timers stood still during the suspend)', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ windows: windows('22:00-06:00') }) });
  const { h, monitor } = await world([job]);
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.runs.length, 0);
  monitor!.sleep(true);
  h.clock.jump(11 * HOUR); // suspended from 12:00 to 23:00: no timer fired
  monitor!.sleep(false);
  await flush();
  assert.equal(h.runs.length, 1, 'runs at the resume, inside the window');
});

test('a job paused during a run that its conditions then stop is only stopped, not queued again (pause promises no new run)', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, monitor } = await world([job]);
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  h.scheduler.pause('docs');
  monitor!.set(metered(onAc, true));
  await flush();
  assert.equal(h.runs[0]!.signal.aborted, true, 'the run is stopped for its conditions');
  await h.runs[0]!.finish({ outcome: 'cancelled' });
  monitor!.set(metered(onAc, false));
  await flush();
  assert.equal(h.runs.length, 1, 'no second run while paused');
  assert.equal(h.scheduler.info('docs')!.queued, false);
});

test('a run is judged mid-run only once the runner reported which rclone runs it, and at once then', async () => {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, gate, monitor } = await world([job], { reportStarts: false });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  monitor!.set(metered(onAc, true)); // while the runner still prepares the run: its rclone is not known yet
  await flush();
  assert.equal(h.runs[0]!.signal.aborted, false, 'no decision without the running rclone');
  gate.runStarted('docs', h.runs[0]!.runId, 'bisync', MODERN);
  assert.equal(h.runs[0]!.signal.aborted, true, 'judged when rclone starts: the connection is metered, 1.75 stops gracefully');
  assert.equal(conditionsStopOf(h.runs[0]!.signal.reason), 'metered connection', 'the stop carries what ended the conditions to the record');
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection', 'the queued run says at once what it waits for');
});

/** The service on a fake clock and a fake monitor: the service probes one rclone, the runner reports another. */
async function serviceWorld(probed: RcloneCapabilities, running: RcloneCapabilities) {
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const monitor = fakeMonitor(onAc);
  const runner = new FakeRunner();
  runner.rclone = running;
  const clock = new FakeClock(MON_NOON);
  const service = createService({
    configPath: '/home/u/.config/rclone-bisync-manager/config.yaml',
    clock,
    logger: nullLogger,
    runner,
    notifier: quietNotifier,
    editor: { addJob: () => Promise.resolve(), removeJob: () => Promise.resolve() },
    version: '9.9.9',
    timezone: 'UTC',
    loadConfig: () => Promise.resolve(makeConfig([job])),
    probeCaps: () => Promise.resolve(probed),
    system: monitor.monitor,
  });
  await service.start();
  await flush();
  return { service, runner, monitor };
}

test('review finding 2: the mid-run decision is taken for the rclone running the run, not the one the service probed', async () => {
  // rclone_binary changed by a reload, or rclone replaced under the service: the service's probe says 1.75, the run's 1.60.
  {
    const { service, runner, monitor } = await serviceWorld(MODERN, OLD);
    await service.sync(['docs'], { trigger: 'manual', respectConditions: true });
    await flush();
    assert.equal(runner.runs.length, 1);
    monitor.set(metered(onAc, true));
    await flush();
    assert.equal(runner.runs[0]!.hooks?.signal?.aborted, false, 'rclone 1.60 runs it: a signal would force a resync, so it finishes');
    runner.runs[0]!.finish();
    await service.shutdown();
  }
  // rclone upgraded under a running service (the runner probes the new file; the service keeps its first probe).
  {
    const { service, runner, monitor } = await serviceWorld(OLD, MODERN);
    await service.sync(['docs'], { trigger: 'manual', respectConditions: true });
    await flush();
    monitor.set(metered(onAc, true));
    await flush();
    assert.equal(runner.runs[0]!.hooks?.signal?.aborted, true, 'rclone 1.75 runs it: stopped gracefully');
    assert.equal(conditionsStopOf(runner.runs[0]!.hooks?.signal?.reason), 'metered connection');
    assert.equal(service.jobStatus('docs').waiting, 'metered connection');
    await service.shutdown();
  }
});

test('stale waiting text: a reload that removes the condition while a slot holds the job clears it at once', async () => {
  const jobs = [makeJob('busy', { schedule: never, local: '/data/busy', path2: 'remote:busy' }), makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) })];
  const { h, gate } = await world(jobs, { facts: metered(onAc, true), maxParallel: 1 });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  h.scheduler.trigger('busy', { trigger: 'manual' });
  await flush();
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
  assert.deepEqual(h.runs.map((r) => r.job), ['busy']);
  jobs[1] = makeJob('docs', { schedule: never }); // the reload drops run_conditions
  h.scheduler.applyConfig(jobs);
  gate.configChanged();
  await flush();
  assert.equal(h.scheduler.info('docs')!.waiting, '', 'it waits for a free slot now, not for a metered connection');
  assert.equal(h.scheduler.info('docs')!.activity, 'queued');
  await h.runs[0]!.finish();
  assert.deepEqual(h.runs.map((r) => r.job), ['busy', 'docs']);
});

test('stale waiting text: the window opening while another job holds the only slot replaces "next opens …"', async () => {
  const jobs = [makeJob('busy', { schedule: never, local: '/data/busy', path2: 'remote:busy' }), makeJob('docs', { schedule: never, runConditions: conditions({ windows: windows('22:00-06:00') }) })];
  const { h } = await world(jobs, { maxParallel: 1 });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.scheduler.info('docs')!.waiting, 'outside its time window (next opens Mon 22:00)');
  await h.advance(9 * HOUR); // 21:00
  h.scheduler.trigger('busy', { trigger: 'manual' });
  await flush();
  await h.advance(HOUR + 30 * 60_000); // 22:30: the window is open, busy still runs
  assert.equal(h.scheduler.info('docs')!.waiting, '', 'no "next opens Mon 22:00" at 22:30');
  await h.runs[0]!.finish();
  assert.deepEqual(h.runs.map((r) => r.job), ['busy', 'docs']);
});

test('stale waiting text: a manual dry run starting does not hide that the real run still waits; pause and removal clear it', async () => {
  const jobs = [makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) })];
  const { h } = await world(jobs, { facts: metered(onAc, true) });
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  h.scheduler.trigger('docs', { trigger: 'manual', dryRun: true });
  await flush();
  assert.deepEqual(h.runs.map((r) => r.request.dryRun === true), [true], 'the manual dry run runs anyway');
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection', 'the scheduled real run still waits, and says so');
  await h.runs[0]!.finish();
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
  h.scheduler.pause('docs');
  assert.equal(h.scheduler.info('docs')!.waiting, '', 'paused: nothing waits');
  h.scheduler.resume('docs');
  h.scheduler.trigger('docs', { trigger: 'schedule' });
  await flush();
  assert.equal(h.scheduler.info('docs')!.waiting, 'metered connection');
  h.scheduler.applyConfig([]);
  assert.equal(h.scheduler.info('docs'), undefined, 'removed with its waiting run');
});

test("Metered flipping between unknown and known: the WARN is said once per job and condition, again only when the reason changes; the status follows the facts", async () => {
  const { logger, warnings } = recordingLogger();
  const job = makeJob('docs', { schedule: never, runConditions: conditions({ metered: 'avoid' }) });
  const { h, gate, monitor } = await world([job], { facts: metered(onAc, undefined), logger });
  const unknown = 'run conditions not available here (counted as met): metered (NetworkManager does not know whether the connection is metered)';
  assert.deepEqual(warnings, [unknown]);
  for (let flip = 0; flip < 3; flip++) {
    // Each phase is judged at the gate too (a scheduled run starts: met, or counted as met).
    monitor!.set(metered(onAc, false));
    h.scheduler.trigger('docs', { trigger: 'schedule' });
    await flush();
    assert.equal(gate.noteOf('docs'), undefined, 'known again: the status has no line');
    await h.runs.at(-1)!.finish();
    monitor!.set(metered(onAc, undefined));
    h.scheduler.trigger('docs', { trigger: 'schedule' });
    await flush();
    assert.equal(gate.noteOf('docs'), unknown);
    await h.runs.at(-1)!.finish();
  }
  assert.equal(h.runs.length, 6);
  assert.deepEqual(warnings, [unknown], 'no WARN per flip');
  monitor!.set({ ...onAc, network: { available: false, state: 'unknown', connectivity: 'unknown', metered: undefined } });
  await flush();
  assert.deepEqual(warnings, [unknown, 'run conditions not available here (counted as met): metered (NetworkManager is not on the system bus)'], 'a real change is said once');
});
