// The service in-process on a fake clock with a fake runner, recording the ControlApi events that carry health
// (jobChanged, serviceChanged) and the warnings logged: for the health, staleness and snooze tests.
import type { Config, JobConfig } from '../../src/config/types.js';
import { DEFAULT_ALERTS } from '../../src/config/parse.js';
import type { AlertSettings } from '../../src/config/types.js';
import type { JobStatus, ServiceSummary } from '../../src/api/control-api.js';
import type { Notifier } from '../../src/platform/notify.js';
import type { Logger } from '../../src/ports.js';
import { createService, type Service } from '../../src/service/service.js';
import type { SnoozeStore } from '../../src/service/snoozes.js';
import type { FirstSeenStore } from '../../src/service/first-seen.js';
import { FakeClock } from './fake-clock.js';
import { FakeRunner, makeConfig } from './fake-runner.js';
import { flush, makeJob } from './scheduler-fixtures.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** A schedule whose next slot is a year away: no run interferes with what a test watches. */
export const YEARLY = '0 0 1 1 *';

export const quietNotifier: Notifier = { ready() {}, reloading() {}, stopping() {}, status() {}, startWatchdog() {}, stopWatchdog() {} };

/** A job with these alert settings over the defaults. */
export function alertJob(name: string, alerts: Partial<AlertSettings>, overrides: Partial<JobConfig> = {}): JobConfig {
  return makeJob(name, { alerts: { ...DEFAULT_ALERTS, ...alerts }, ...overrides });
}

export interface HealthWorld {
  service: Service;
  runner: FakeRunner;
  clock: FakeClock;
  /** Every jobChanged, in order. */
  changed: JobStatus[];
  /** Every serviceChanged, in order. */
  services: ServiceSummary[];
  warnings: string[];
  setConfig(config: Config): void;
  /** The jobChanged events since the last call of `take`, as [job, health]. */
  take(): [string, string][];
  health(job: string): [string, string];
}

export interface HealthWorldOptions {
  clock?: FakeClock;
  runner?: FakeRunner;
  pausedJobs?: { load(): string[]; save(names: string[]): void };
  snoozes?: SnoozeStore;
  firstSeen?: FirstSeenStore;
  maxSleepMs?: number;
  /** The service's -d/--dry-run. */
  forceDryRun?: boolean;
}

export function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message) => warnings.push(message),
    error: (message) => warnings.push(message),
    child: () => logger,
  };
  return logger;
}

/** Build and start the service; it loads `initial` and has run its start-up before this resolves. */
export async function startHealthWorld(initial: Config, options: HealthWorldOptions = {}): Promise<HealthWorld> {
  let current = initial;
  const clock = options.clock ?? new FakeClock();
  const runner = options.runner ?? new FakeRunner();
  const warnings: string[] = [];
  const service = createService({
    configPath: '/home/u/.config/rclone-bisync-manager/config.yaml',
    clock,
    logger: recordingLogger(warnings),
    runner,
    notifier: quietNotifier,
    editor: { addJob: () => Promise.resolve(), removeJob: () => Promise.resolve() },
    version: '9.9.9',
    timezone: 'UTC',
    loadConfig: () => Promise.resolve(current),
    ...(options.pausedJobs ? { pausedJobs: options.pausedJobs } : {}),
    ...(options.snoozes ? { snoozes: options.snoozes } : {}),
    ...(options.firstSeen ? { firstSeen: options.firstSeen } : {}),
    ...(options.maxSleepMs !== undefined ? { maxSleepMs: options.maxSleepMs } : {}),
    ...(options.forceDryRun === true ? { forceDryRun: true } : {}),
  });
  const changed: JobStatus[] = [];
  const services: ServiceSummary[] = [];
  service.on('jobChanged', (status) => changed.push(status));
  service.on('serviceChanged', (summary) => services.push(summary));
  await service.start();
  await flush();
  let taken = 0;
  return {
    service,
    runner,
    clock,
    changed,
    services,
    warnings,
    setConfig(config) {
      current = config;
    },
    take() {
      const fresh = changed.slice(taken).map((s): [string, string] => [s.name, s.health]);
      taken = changed.length;
      return fresh;
    },
    health(job) {
      const status = service.jobStatus(job);
      return [status.health, status.healthReason];
    },
  };
}

export { makeConfig, makeJob };
