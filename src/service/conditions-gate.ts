// The run conditions in the service (issue 17): the gate the scheduler asks before a queued run that respects them
// starts, what wakes the waiting runs (the system-bus monitor's changes and ONE timer at the next window change: no
// polling), and what a change does to a run in progress (src/conditions/evaluate.ts midRunDecision). The rules are
// pure (src/conditions/); this file holds the facts, the timer and the calls.
//
// Usage (service.ts):
//   const gate = createConditionsGate({ clock, logger, timezone, system, events, jobs });
//   createScheduler({ …, mayStart: gate.mayStart, runStarted: gate.runStarted });  gate.attach(scheduler);
//   gate.configChanged() after each config commit;  gate.close() at shutdown.
//
// A stop mid-run is decided with the capabilities of the rclone that runs the run, as the runner reports them when it
// starts rclone (the same ones its stop policy uses), never with the service's own probe: rclone upgraded under a
// running service, or rclone_binary changed by a reload, would make those two differ (docs/decisions.md).
import type { JobConfig, RcloneCapabilities } from '../config/types.js';
import { askedConditions, earliestWindowChangeMs, evaluateConditions, factsMatter, hasConditions, midRunDecision, needsSystemFacts, unavailableText } from '../conditions/evaluate.js';
import type { ConditionFacts, ConditionName, UnavailableCondition } from '../conditions/types.js';
import type { ServiceSystem } from './system-watch.js';
import type { Clock, Logger, Timer } from '../ports.js';
import type { Operation, RunRequest } from '../run/types.js';
import { respectsConditions } from '../scheduler/run-gate.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { UNKNOWN_FACTS } from '../sysbus/facts.js';
import type { EventHub } from './events.js';

/** Shown while the system bus's first answers are awaited (a few seconds at most: the monitor's calls time out). */
export const CHECKING_TEXT = 'checking its run conditions on the system bus';

/** What the runner reported when it started rclone for a run: the decision mid-run is taken for this rclone. */
interface StartedRun {
  runId: number;
  operation: Operation;
  rclone: Pick<RcloneCapabilities, 'version'>;
}

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
}

export interface ConditionsGate {
  /** SchedulerDeps.mayStart: true, or why the run waits. */
  mayStart(job: JobConfig, request: RunRequest): true | string;
  /**
   * The runner started rclone for a run (RunHooks.onStarted): the operation and the capabilities of the rclone that
   * runs it. A run is judged mid-run only from here on, with these capabilities (a window end stops a run only where
   * that rclone stops gracefully); it is judged at once, for a condition that ended while the run was being prepared.
   */
  runStarted(job: string, runId: number, operation: Operation, rclone: Pick<RcloneCapabilities, 'version'>): void;
  /** Listen to the monitor and arm the window timer for this scheduler. */
  attach(scheduler: Scheduler): void;
  /** After a config commit: re-arm the window timer, say once which conditions this machine cannot tell. */
  configChanged(): void;
  /** The job's conditions this machine cannot tell, as one line (its status shows it), undefined when none. */
  noteOf(job: string): string | undefined;
  close(): void;
}

export function createConditionsGate(deps: ConditionsGateDeps): ConditionsGate {
  const { clock, logger, timezone, system } = deps;
  let scheduler: Scheduler | undefined;
  let ready = system === undefined;
  let closed = false;
  let timer: Timer | undefined;
  const unsubscribes: (() => void)[] = [];
  /** The unavailable-conditions line of each job now, for its status. */
  const notes = new Map<string, string>();
  /**
   * Why each condition of each job was last said to be unavailable (a WARN): said once per job and condition, again
   * only when the reason changes. NetworkManager's Metered flipping between unknown and known is no new reason.
   */
  const said = new Map<string, Map<ConditionName, string>>();
  /** Runs already judged mid-run per job (a stop or finish is decided once per run). */
  const decided = new Map<string, number>();
  /** Each running job's run as the runner reported it at rclone's start (a resync always finishes). */
  const started = new Map<string, StartedRun>();

  const facts = (): ConditionFacts => system?.facts() ?? UNKNOWN_FACTS;

  function conditioned(): JobConfig[] {
    return deps.jobs().filter((job) => hasConditions(job.runConditions));
  }

  function verdictOf(job: JobConfig) {
    const verdict = evaluateConditions(job.runConditions, facts(), clock.now(), timezone);
    if (ready) noteUnavailable(job.name, verdict.unavailable);
    return verdict;
  }

  /** The status line follows the facts; the log says each condition's reason once (a WARN per real change). */
  function noteUnavailable(job: string, unavailable: readonly UnavailableCondition[]): void {
    const text = unavailableText(unavailable);
    if (text === undefined) notes.delete(job);
    else notes.set(job, text);
    const whys = said.get(job) ?? new Map<ConditionName, string>();
    said.set(job, whys);
    const fresh = unavailable.filter((u) => whys.get(u.condition) !== u.why);
    for (const u of fresh) whys.set(u.condition, u.why);
    const line = unavailableText(fresh);
    if (line !== undefined) logger.warn(line, { job });
  }

  /** Forget what was said about jobs that left the config and conditions a job no longer asks for. */
  function forgetSaid(): void {
    const jobs = new Map(deps.jobs().map((job) => [job.name, new Set(askedConditions(job.runConditions))]));
    for (const [name, whys] of [...said]) {
      const asked = jobs.get(name);
      if (asked === undefined) said.delete(name);
      else for (const condition of [...whys.keys()]) if (!asked.has(condition)) whys.delete(condition);
    }
    for (const name of [...notes.keys()]) if (!jobs.has(name)) notes.delete(name);
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
      // Not started yet (the runner is preparing it): judged when it reports which rclone runs it (runStarted).
      const run = started.get(job.name);
      if (run?.runId !== info.currentRunId) continue;
      const verdict = verdictOf(job);
      const resync = info.runRequest.resync === true || run.operation === 'resync';
      const decision = midRunDecision(job.runConditions, verdict, run.rclone, { resync });
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
    // The status line of every concerned job follows the facts, queued or not (Metered known again: no line).
    if (ready) for (const job of touched) verdictOf(job);
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
      deps.events.on('jobFinished', (record) => {
        if (started.get(record.job)?.runId === record.runId) started.delete(record.job);
        if (decided.get(record.job) === record.runId) decided.delete(record.job);
      }),
    );
  }

  function sayAllUnavailable(): void {
    for (const job of conditioned()) verdictOf(job);
  }

  return {
    mayStart,

    runStarted(job, runId, operation, rclone) {
      started.set(job, { runId, operation, rclone });
      const config = conditioned().find((c) => c.name === job);
      if (config !== undefined) judgeRunning([config]);
    },

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
      forgetSaid();
      // A job whose conditions are all gone has no line any more (it is no longer judged).
      for (const job of deps.jobs()) if (!hasConditions(job.runConditions)) notes.delete(job.name);
      if (ready) sayAllUnavailable();
      armWindowTimer();
    },

    noteOf: (job) => notes.get(job),

    close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
