// The STATUS= line systemd shows (`systemctl --user status`): composed from the scheduler's picture and the config
// state, sent only when it changes, at most once per burst of scheduler events.
import { ConfigError, errorText, formatIssue } from '../errors.js';
import type { Notifier } from '../platform/notify.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { ServiceState } from '../api/control-api.js';
import { needsAttention } from '../api/outcomes.js';

/** What the line says about the service besides its jobs. */
export interface StatusLineContext {
  state: ServiceState;
  /** One line about the config problem, '' when the config in force loaded cleanly. */
  configErrorLine: string;
  /** A config is in force (the last good one, when configErrorLine is set). */
  configLoaded: boolean;
}

/** The STATUS= line: jobs, running and queued ones, those that need attention or are paused; stopping; config errors. */
export function composeStatusLine(scheduler: Pick<Scheduler, 'jobs' | 'runningJobs' | 'queuedJobs'>, { state, configErrorLine, configLoaded }: StatusLineContext): string {
  const jobs = scheduler.jobs().filter((j) => !j.removed);
  const running = scheduler.runningJobs();
  const queued = scheduler.queuedJobs();
  let line = `${jobs.length} job${jobs.length === 1 ? '' : 's'}`;
  line += running.length > 0 ? `, ${running.length} running: ${running.join(', ')}` : ', idle';
  if (queued.length > 0) line += `, ${queued.length} queued`;
  const attention = jobs.filter((j) => needsAttention(j.activity)).map((j) => j.name);
  if (attention.length > 0) line += `, needs attention: ${attention.join(', ')}`;
  const paused = jobs.filter((j) => j.paused).length;
  if (paused > 0) line += `, ${paused} paused`;
  if (state === 'stopping') return `stopping: ${running.length > 0 ? `waiting for ${running.join(', ')}` : 'done'}`;
  if (configErrorLine !== '') line = `config error: ${configErrorLine}; ${configLoaded ? 'last good config in force' : 'no config loaded'}; ${line}`;
  return line;
}

/** One line for STATUS= about a config problem. */
export function configErrorSummary(e: unknown): string {
  if (e instanceof ConfigError && e.issues.length > 0) {
    const first = formatIssue(e.issues[0]!);
    return e.issues.length === 1 ? first : `${first} (+${e.issues.length - 1} more)`;
  }
  return errorText(e).split('\n')[0] ?? '';
}

export interface StatusReporterDeps {
  notifier: Notifier;
  /** The line as it would read now. */
  composeLine: () => string;
  /** Identifies the service-level picture (state, config error, running/queued lists, the set of jobs). */
  summaryKey: () => string;
  /** Told when that picture changed (the ControlApi serviceChanged event). */
  summaryChanged: () => void;
}

export interface StatusReporter {
  /** Push STATUS= and serviceChanged when the service-level picture changed. */
  refresh(): void;
  /** One refresh for a burst of scheduler events, before any I/O. */
  refreshSoon(): void;
  /** The line as last sent ('' before the first refresh). */
  lastLine(): string;
}

export function createStatusReporter({ notifier, composeLine, summaryKey, summaryChanged }: StatusReporterDeps): StatusReporter {
  let lastStatusLine = '';
  let lastServiceKey = '';

  function refresh(): void {
    const line = composeLine();
    if (line !== lastStatusLine) {
      lastStatusLine = line;
      notifier.status(line);
    }
    const key = summaryKey();
    if (key !== lastServiceKey) {
      lastServiceKey = key;
      summaryChanged();
    }
  }

  /**
   * One refresh for a burst of scheduler events (a config with 1,000 jobs adds 1,000 at once; refreshing after each
   * made loading quadratic). A microtask, so STATUS= and serviceChanged still follow before any I/O.
   */
  let refreshQueued = false;
  function refreshSoon(): void {
    if (refreshQueued) return;
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      refresh();
    });
  }

  return { refresh, refreshSoon, lastLine: () => lastStatusLine };
}
