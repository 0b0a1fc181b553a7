// JobStatus values for the alerts' unit tests: a job with a health, its state and its alert settings.
import type { JobHealth, JobStatus } from '../../src/api/control-api.js';
import type { AlertSettings } from '../../src/config/types.js';
import { DEFAULT_ALERTS } from '../../src/config/parse.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import type { JobState } from '../../src/run/types.js';
import { makeJob } from './job.js';

export interface StatusSpec {
  health?: JobHealth;
  reason?: string;
  state?: Partial<JobState>;
  alerts?: Partial<AlertSettings>;
  snoozedUntilMs?: number;
}

export function alertStatus(name: string, spec: StatusSpec = {}): JobStatus {
  return {
    name,
    config: { ...makeJob({ name }), alerts: { ...DEFAULT_ALERTS, ...spec.alerts } },
    activity: 'idle',
    paused: false,
    state: { ...initialJobState(), resyncDone: true, lastRunId: 7, ...spec.state },
    nextRunMs: 0,
    currentRunId: 0,
    progress: undefined,
    cpuLimitNotApplied: false,
    health: spec.health ?? 'ok',
    healthReason: spec.reason ?? '',
    snoozedUntilMs: spec.snoozedUntilMs ?? 0,
    waiting: '',
  };
}

/** A job parked for approval of `count` deletes (the state keeps the first paths). */
export function approvalStatus(name: string, count: number, spec: StatusSpec = {}): JobStatus {
  const paths = Array.from({ length: Math.min(count, 5) }, (_, i) => `/remote/${name}/f${i + 1}.txt`);
  return alertStatus(name, {
    health: 'attention',
    reason: `waits for your approval of ${count} deletes: review them with rbmctl approve ${name}`,
    ...spec,
    state: { needsApproval: true, pendingDeletes: paths, pendingDeleteCount: count, approvalToken: 'tok', ...spec.state },
  });
}

let lastSuccess = 1_000_000;

/** A job back to ok after a run that really synced (lastSuccessMs moved forward): a recovery. */
export function syncedStatus(name: string, spec: StatusSpec = {}): JobStatus {
  lastSuccess += 1000;
  return alertStatus(name, { ...spec, state: { lastOutcome: 'success', lastSuccessMs: lastSuccess, ...spec.state } });
}
