// The run conditions in the service (issue 17): the gate the scheduler asks before a queued run that respects them
// starts, what wakes the waiting runs (the system-bus monitor's changes and ONE timer at the next window change: no
// polling), and what a change does to a run in progress (src/conditions/evaluate.ts midRunDecision). The rules are
// pure (src/conditions/); this file holds the facts, the timer and the calls.
//
// Usage (service.ts):
//   const gate = createConditionsGate({ clock, logger, timezone, system, events, jobs, caps });
//   createScheduler({ …, mayStart: gate.mayStart });  gate.attach(scheduler);
//   gate.configChanged() after each config commit;  gate.close() at shutdown.
import type { JobConfig, RcloneCapabilities } from '../config/types.js';
import { earliestWindowChangeMs, evaluateConditions, factsMatter, hasConditions, midRunDecision, unavailableText } from '../conditions/evaluate.js';
import type { ConditionFacts, RunConditions } from '../conditions/types.js';
import type { ServiceSystem } from './system-watch.js';
import type { Clock, Logger, Timer } from '../ports.js';
import type { RunRequest } from '../run/types.js';
import { respectsConditions } from '../scheduler/run-gate.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { EventHub } from './events.js';

/** Shown while the system bus's first answers are awaited (a few seconds at most: the monitor's calls time out). */
export const CHECKING_TEXT = 'checking its run conditions on the system bus';

/** An rclone whose version is not known yet is treated like one that cannot stop gracefully: letting it finish is safe. */
const UNKNOWN_RCLONE: Pick<RcloneCapabilities, 'version'> = Object.freeze({ version: '0.0.0' });

/** No system bus at all: NetworkManager and UPower unavailable, so every condition that needs them counts as met. */
const NO_SYSTEM_FACTS: ConditionFacts = Object.freeze({
  network: Object.freeze({ available: false, connectivity: 'unknown' as const, metered: undefined }),
  power: Object.freeze({ available: false, onBattery: false, batteryPercent: undefined }),
});

export interface ConditionsGateDeps {
  clock: Clock;
  logger: Logger;
  /** The zone the windows are read in (the service's: LOCAL_TIMEZONE). */
  timezone: string;
  /** The system-bus monitor; undefined: no system bus (every condition that needs one counts as met). */
  system: ServiceSystem | undefined;
  events: EventHub;
  /** The jobs of the config in force. */
  jobs: () => readonly JobConfig[];
  /** The rclone in use (a window end stops a run only where rclone stops gracefully); undefined when unknown. */
  caps: () => RcloneCapabilities | undefined;
}

export interface ConditionsGate {
  /** SchedulerDeps.mayStart: true, or why the run waits. */
  mayStart(job: JobConfig, request: RunRequest): true | string;
  /** Listen to the monitor and arm the window timer for this scheduler. */
  attach(scheduler: Scheduler): void;
  /** After a config commit: re-arm the window timer, say once which conditions this machine cannot tell. */
  configChanged(): void;
  /** The unavailable-conditions line last said for the job (its status shows it), undefined when none. */
  noteOf(job: string): string | undefined;
  close(): void;
}

/** Conditions that need NetworkManager or UPower (a window needs only the clock). */
function needsSystemFacts(conditions: RunConditions): boolean {
  return conditions.metered !== 'allow' || conditions.power.kind !== 'any' || conditions.network !== 'any';
}

export function createConditionsGate(deps: ConditionsGateDeps): ConditionsGate {
  const { clock, logger, timezone, system } = deps;
  let scheduler: Scheduler | undefined;
  let ready = system === undefined;
  let closed = false;
  let timer: Timer | undefined;
  const unsubscribes: (() => void)[] = [];
  /** The unavailable-conditions line last logged per job: said once, again only when it changes. */
  const saidUnavailable = new Map<string, string>();
  /** Runs already judged mid-run per job (a stop or finish is decided once per run). */
  const decided = new Map<string, number>();
  /** The operation of each running job's run (a resync always finishes). */
  const operations = new Map<string, { runId: number; operation: 'bisync' | 'resync' }>();

  const facts = (): ConditionFacts => system?.facts() ?? NO_SYSTEM_FACTS;

  function conditioned(): JobConfig[] {
    return deps.jobs().filter((job) => hasConditions(job.runConditions));
  }

  function verdictOf(job: JobConfig) {
    const verdict = evaluateConditions(job.runConditions, facts(), clock.now(), timezone);
    if (ready) sayUnavailable(job.name, unavailableText(verdict.unavailable));
    return verdict;
  }

  function sayUnavailable(job: string, text: string | undefined): void {
    if ((saidUnavailable.get(job) ?? '') === (text ?? '')) return;
    if (text === undefined) saidUnavailable.delete(job);
    else {
      saidUnavailable.set(job, text);
      logger.warn(text, { job });
    }
  }

  function mayStart(job: JobConfig, request: RunRequest): true | string {
    if (!respectsConditions(request) || !hasConditions(job.runConditions)) return true;
    if (!ready && needsSystemFacts(job.runConditions)) return CHECKING_TEXT;
    const verdict = verdictOf(job);
    return verdict.met ? true : verdict.waiting;
  }

  /** A running run that respects the conditions is stopped or let finish once they are no longer met. */
  function judgeRunning(jobs: readonly JobConfig[]): void {
    if (!scheduler) return;
    for (const job of jobs) {
      const info = scheduler.info(job.name);
      if (!info?.running || info.runRequest === undefined || !respectsConditions(info.runRequest)) continue;
      if (decided.get(job.name) === info.currentRunId) continue;
      const verdict = verdictOf(job);
      const resync = info.runRequest.resync === true || operations.get(job.name)?.operation === 'resync';
      const decision = midRunDecision(job.runConditions, verdict, deps.caps() ?? UNKNOWN_RCLONE, { resync });
      if (decision.action === 'continue') continue;
      decided.set(job.name, info.currentRunId);
      if (decision.action === 'finish') {
        logger.info('the run conditions are no longer met; the run finishes (a stop would force a resync, or run_conditions.mid_run is finish)', { job: job.name, runId: info.currentRunId, why: decision.reason });
        continue;
      }
      scheduler.stopAndRequeue(job.name, decision.reason);
    }
  }

  function onFactsChanged(after: ConditionFacts, before: ConditionFacts): void {
    const touched = conditioned().filter((job) => factsMatter(job.runConditions, before, after));
    if (touched.length === 0) return;
    scheduler?.recheck();
    judgeRunning(touched);
  }

  function armWindowTimer(): void {
    timer?.cancel();
    timer = undefined;
    if (closed || !scheduler) return;
    const now = clock.now();
    const at = earliestWindowChangeMs(conditioned().map((job) => job.runConditions), now, timezone);
    if (at === undefined) return; // no job has a window: no timer at all
    timer = clock.setTimer(Math.max(0, at - now), onWindowTimer);
  }

  function onWindowTimer(): void {
    timer = undefined;
    // A real clock may fire early (long delays are clamped): judging again is harmless, and the timer is re-armed.
    scheduler?.recheck();
    judgeRunning(conditioned().filter((job) => job.runConditions.windows.length > 0));
    armWindowTimer();
  }

  function onSleep(preparing: boolean): void {
    if (preparing) {
      // No delay lock (docs/decisions.md): rclone is frozen with the machine; its state is already on disk.
      logger.info('the machine is suspending; runs in flight are frozen with it', { running: scheduler?.runningJobs() ?? [] });
      return;
    }
    logger.info('the machine resumed');
    // Timers ran on the monotonic clock, which stood still: the windows are judged again from the wall clock.
    scheduler?.recheck();
    judgeRunning(conditioned());
    armWindowTimer();
  }

  function watchRuns(): void {
    unsubscribes.push(
      deps.events.on('jobStarted', (job, runId, operation) => operations.set(job, { runId, operation })),
      deps.events.on('jobFinished', (record) => {
        if (operations.get(record.job)?.runId === record.runId) operations.delete(record.job);
        if (decided.get(record.job) === record.runId) decided.delete(record.job);
      }),
    );
  }

  function sayAllUnavailable(): void {
    for (const job of conditioned()) sayUnavailable(job.name, unavailableText(evaluateConditions(job.runConditions, facts(), clock.now(), timezone).unavailable));
  }

  return {
    mayStart,

    attach(s) {
      scheduler = s;
      watchRuns();
      if (system !== undefined) {
        unsubscribes.push(system.on('change', (after, before) => onFactsChanged(after, before)));
        unsubscribes.push(system.on('sleep', onSleep));
        void system.ready.then(() => {
          if (closed) return;
          ready = true;
          sayAllUnavailable();
          scheduler?.recheck();
        });
      } else {
        sayAllUnavailable();
      }
      armWindowTimer();
    },

    configChanged() {
      const names = new Set(deps.jobs().map((job) => job.name));
      for (const name of [...saidUnavailable.keys()]) if (!names.has(name)) saidUnavailable.delete(name);
      if (ready) sayAllUnavailable();
      armWindowTimer();
    },

    noteOf: (job) => saidUnavailable.get(job),

    close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
