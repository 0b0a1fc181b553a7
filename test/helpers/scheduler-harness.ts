// A scheduler wired to a FakeClock and a fake run that the test finishes by hand (or at once with autoFinish).
import type { JobConfig } from '../../src/config/types.js';
import type { JobState, RunRecord, RunRequest } from '../../src/run/types.js';
import { nullLogger } from '../../src/ports.js';
import { createScheduler, type Scheduler, type SchedulerDeps, type SchedulerEvent } from '../../src/scheduler/scheduler.js';
import { FakeClock } from './fake-clock.js';
import { deferred, flush, makeRecord, makeState } from './scheduler-fixtures.js';

export interface FakeRun {
  job: string;
  config: JobConfig;
  request: RunRequest;
  runId: number;
  atMs: number;
  signal: AbortSignal;
  finished: boolean;
  /** Settle the run with a record (success by default), then let the scheduler react. */
  finish(overrides?: Partial<RunRecord>): Promise<void>;
}

export interface Harness {
  clock: FakeClock;
  scheduler: Scheduler;
  runs: FakeRun[];
  events: SchedulerEvent[];
  states: Map<string, JobState>;
  /** Runs not yet finished. */
  active(): FakeRun[];
  /** advance() then let promise callbacks run. */
  advance(ms: number): Promise<void>;
  finishAll(): Promise<void>;
}

export interface HarnessOptions {
  jobs: JobConfig[];
  maxParallel?: number;
  states?: Record<string, Partial<JobState>>;
  autoFinish?: boolean;
  startMs?: number;
  maxSleepMs?: number;
  start?: boolean;
  /** The zone the cron fields are read in (the scheduler's default when left out). */
  timezone?: string;
  /** The run gate (run conditions); default: every run may start. */
  mayStart?: SchedulerDeps['mayStart'];
}

export function createHarness(options: HarnessOptions): Harness {
  const clock = new FakeClock(options.startMs);
  const runs: FakeRun[] = [];
  const events: SchedulerEvent[] = [];
  const states = new Map<string, JobState>();
  for (const [name, s] of Object.entries(options.states ?? {})) states.set(name, makeState(s));
  let nextId = 1;
  const scheduler = createScheduler({
    clock,
    logger: nullLogger,
    maxParallel: options.maxParallel ?? 4,
    nextRunId: () => nextId++,
    readState: (name) => states.get(name) ?? makeState(),
    ...(options.maxSleepMs === undefined ? {} : { maxSleepMs: options.maxSleepMs }),
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    ...(options.mayStart === undefined ? {} : { mayStart: options.mayStart }),
    startRun: (config, request, runId, signal) => {
      const d = deferred<RunRecord>();
      const run: FakeRun = {
        job: config.name,
        config,
        request,
        runId,
        atMs: clock.now(),
        signal,
        finished: false,
        async finish(overrides = {}) {
          if (run.finished) return;
          run.finished = true;
          d.resolve(makeRecord(config.name, runId, request, clock.now(), overrides));
          await flush();
        },
      };
      runs.push(run);
      if (options.autoFinish === true) void run.finish();
      return d.promise;
    },
  });
  scheduler.on((e) => events.push(e));
  scheduler.applyConfig(options.jobs);
  if (options.start !== false) scheduler.start();
  return {
    clock,
    scheduler,
    runs,
    events,
    states,
    active: () => runs.filter((r) => !r.finished),
    async advance(ms) {
      clock.advance(ms);
      await flush();
    },
    async finishAll() {
      for (const r of runs.filter((x) => !x.finished)) await r.finish();
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
