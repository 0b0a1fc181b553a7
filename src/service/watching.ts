// Sync on change (issue 16), the service half: one tree watcher and one watch trigger per active, unpaused job with
// `watch: true`. Started once the service is ready (start-up time unchanged), rebuilt when a job's paths, filters or
// watch keys change, closed on pause, removal, `active: false` and shutdown. A due watch run is queued through the
// scheduler with trigger 'watch' (it coalesces with a running or queued run like any trigger); the rclone lines of
// each run feed collectLocalWrites so that the job's own downloads never retrigger it (run/rules/watch-debounce.ts);
// the follow-up is decided once the tree watcher has delivered every event from before the run's end (settled()).
// Changes do not queue a run while the job waits for a person (a resync, an approval, a side check) nor before the
// retry time of a retryable failure (the retry is that run).
// At an inotify limit the job falls back to its schedule and its status says which sysctl to raise; a root that
// went away is reported and watched again when it is back (platform/tree-watcher.ts).
import type { Config, JobConfig } from '../config/types.js';
import { WATCH_OFF, type JobWatch } from '../api/control-api.js';
import { isLockedOut, waitingOutcome } from '../api/job-attention.js';
import type { TreeWatcher, TreeWatcherOptions } from '../platform/tree-watcher.js';
import type { Clock, Logger, Timer } from '../ports.js';
import { filteredOutPredicate, filterOptionsOf, jobFilterRules, runFilterSources, type FilterSources } from '../rclone/filter-match.js';
import { collectLocalWrites, createWatchTrigger, type LocalWritesCollector, type WatchTrigger, type WatchTriggerCause } from '../run/rules/watch-debounce.js';
import { isDryRun } from '../run/rules/plan.js';
import { filtersFileOf } from '../rclone/args.js';
import type { RunRequest } from '../run/types.js';
import { isRetryableOutcome } from '../run/rules/retry.js';
import type { JobScheduleInfo, Scheduler, SchedulerEvent } from '../scheduler/scheduler.js';

/** What the watch needs from the machine (the daemon's wiring gives the real ones). */
export interface WatchPlatform {
  createTreeWatcher: (options: TreeWatcherOptions) => TreeWatcher;
  /** The job's rclone workdir (never watched when it lies inside the root). */
  workdirOf: (job: string) => string;
  /** A private folder of the job's, outside its root, for the tree watcher's settled() barrier. */
  barrierDirOf: (job: string) => string;
  /** The service's own folders (state with logs and histories, config): never watched, even inside a root (a root
   * of ~ would otherwise see each run's bookkeeping as a change, and run again forever). */
  serviceDirs: readonly string[];
  /** A filters file's text; undefined when it cannot be read (then the rules it holds are not applied: in doubt, trigger). */
  readText: (path: string) => string | undefined;
}

export interface WatchingDeps {
  clock: Clock;
  logger: Logger;
  scheduler: Scheduler;
  platform: WatchPlatform;
  globalSettings: () => Config['global'] | undefined;
  /** A job's watch status changed (the service emits jobChanged). */
  changed: (job: string) => void;
}

export interface Watching {
  /** Begin watching (once the service is ready); until then nothing is watched. */
  start(): void;
  /** Bring every job's watch in line with the config in force and the job's pause/active state; `retryFailed`
   * (a reload) also tries again the watches an inotify limit stopped (the user may have raised it). */
  reconcile(retryFailed?: boolean): void;
  /** The rclone message hook of a run of `job` (it feeds the job's watch, if any, when the message comes). */
  messageHook(job: string): (message: { text: string }) => void;
  statusOf(job: string): JobWatch;
  /** Close every watcher; nothing is watched afterwards. */
  close(): void;
}

interface JobWatchEntry {
  key: string;
  watcher: TreeWatcher | undefined;
  trigger: WatchTrigger;
  status: JobWatch;
  collector: LocalWritesCollector | undefined;
  running: boolean;
  /** The run the bookkeeping belongs to: only its own run-finished ends it (a cancel first drops a queued run). */
  runId: number;
  /** The last run that ended: its follow-up is decided once the watcher settled, unless a later end came first. */
  endedRunId: number;
}

/** The longest a run's follow-up waits for the tree watcher's settled() (its barrier alone gives up after about 5 s). */
export const SETTLE_LIMIT_MS = 10_000;

/** Everything a watch is built from: a change in any of it rebuilds the watch (other options, such as transfers
 * or bwlimit, leave it as it is). */
function watchKey(job: JobConfig, filtersFile: string | undefined, filters: FilterSources): string {
  return JSON.stringify([job.local, job.watch.delayMs, job.watch.maxWaitMs, filtersFile, filters.filtersFileText, filterOptionsOf(filters), filters.partialFilter]);
}

/** What a rebuilt watch takes over from the one it replaces, so that no change is dropped. */
interface CarriedOver {
  /** Changes not synced yet (waiting for their quiet period, seen during a run, or a follow-up just decided). */
  owed: string[];
  /** The run going, and what it has written so far. */
  runId: number;
  collector: LocalWritesCollector | undefined;
}

/** Why changes do not queue a run now, or undefined when they do. */
function whyChangesWait(info: JobScheduleInfo, request: RunRequest, nowMs: number): string | undefined {
  if (isLockedOut(info.config, info.state, request)) return 'the job needs a resync';
  // A person decides first (no run per saved file meanwhile); the job's schedule still looks again, so an approval
  // heals by itself once the deletes are gone, and a side that came back is checked.
  const waiting = waitingOutcome(info.state);
  if (waiting === 'needs-approval') return 'the job waits for an approval';
  if (waiting === 'check-failed') return 'the job waits for its side check to pass';
  // A retryable failure (offline) backs off: the retry is the next run, and it syncs these changes too.
  if (isRetryableOutcome(info.state.lastOutcome) && info.state.retryAtMs > nowMs) return 'the job waits for its retry';
  return undefined;
}

function wantsWatch(job: JobConfig, paused: boolean, removed: boolean): boolean {
  return job.watch.enabled && job.active && !paused && !removed;
}

export function createWatching(deps: WatchingDeps): Watching {
  const { clock, scheduler, platform } = deps;
  const logger = deps.logger.child({ component: 'watch' });
  const entries = new Map<string, JobWatchEntry>();
  let started = false;
  let closed = false;

  function setStatus(name: string, entry: JobWatchEntry, status: JobWatch): void {
    if (entry.status.state === status.state && entry.status.message === status.message) return;
    entry.status = status;
    deps.changed(name);
  }

  function queueRun(name: string, paths: string[], cause: WatchTriggerCause): void {
    const info = scheduler.info(name);
    if (!info || info.removed || info.paused || !info.config.active) return;
    const request: RunRequest = { trigger: 'watch' };
    const why = whyChangesWait(info, request, clock.now());
    if (why !== undefined) {
      logger.info('local changes seen; no sync queued: ' + why, { job: name, changes: paths.length, first: paths.slice(0, 5) });
      return;
    }
    try {
      const runId = scheduler.trigger(name, request);
      logger.info(cause === 'watch' ? 'local changes: sync queued' : 'changes during the run: one follow-up sync queued', { job: name, runId, changes: paths.length, first: paths.slice(0, 5) });
    } catch (error) {
      logger.debug('watch run not queued', { job: name, error: String(error) }); // shutting down
    }
  }

  /** What the job's watch is built from now: its key and its filter inputs. */
  function watchInputs(job: JobConfig, global: Config['global']): { key: string; filters: FilterSources } {
    const filtersFile = filtersFileOf(job, global);
    const filters = runFilterSources(job, global, filtersFile === undefined ? undefined : platform.readText(filtersFile));
    return { key: watchKey(job, filtersFile, filters), filters };
  }

  function open(job: JobConfig, key: string, filters: FilterSources, carried?: CarriedOver): JobWatchEntry {
    const name = job.name;
    const rules = jobFilterRules(filters);
    const ignore = filteredOutPredicate(rules);
    const trigger = createWatchTrigger({ clock, timing: { delayMs: job.watch.delayMs, maxWaitMs: job.watch.maxWaitMs }, trigger: (paths, cause) => queueRun(name, paths, cause) });
    const entry: JobWatchEntry = { key, watcher: undefined, trigger, status: { state: 'starting', message: '' }, collector: undefined, running: scheduler.info(name)?.running === true, runId: scheduler.info(name)?.currentRunId ?? 0, endedRunId: 0 };
    if (entry.running) {
      // A run going now: the old watch's list of its writes goes on; without one (a new watch), what it writes is
      // unknown, so the changes seen during it give a follow-up.
      if (carried?.runId === entry.runId) entry.collector = carried.collector;
      trigger.runStarted();
    }
    // The old watch's unsynced changes are this one's (those the new filters leave out excepted).
    if (carried) trigger.changed(carried.owed.filter((path) => !ignore(path)));
    entries.set(name, entry);
    entry.watcher = platform.createTreeWatcher({
      root: job.local,
      clock,
      workdir: platform.workdirOf(name),
      barrierDir: platform.barrierDirOf(name),
      privateDirs: platform.serviceDirs,
      ignore,
      onChange: (paths) => entry.trigger.changed(paths),
      onReady: ({ dirs }) => {
        logger.info('watching for local changes', { job: name, local: job.local, folders: dirs });
        setStatus(name, entry, { state: 'watching', message: '' });
      },
      onFailure: (failure) => {
        if (failure.kind === 'limit') {
          logger.warn('sync on change is off: an inotify limit ran out', { job: name, code: failure.code, message: failure.message });
          setStatus(name, entry, { state: 'failed', message: failure.message });
        } else {
          logger.warn('the watched folder is gone', { job: name, message: failure.message });
          setStatus(name, entry, { state: 'root-gone', message: failure.message });
        }
      },
    });
    return entry;
  }

  /** Close the job's watch; what it still owes (for a rebuild to take over). */
  function closeEntry(name: string): CarriedOver | undefined {
    const entry = entries.get(name);
    if (!entry) return undefined;
    entries.delete(name);
    entry.watcher?.close();
    const owed = entry.trigger.dispose();
    if (entry.status.state !== 'off') deps.changed(name);
    return { owed, runId: entry.running ? entry.runId : 0, collector: entry.running ? entry.collector : undefined };
  }

  function reconcile(retryFailed = false): void {
    const global = deps.globalSettings();
    const wanted = new Set<string>();
    if (started && !closed && global) {
      for (const info of scheduler.jobs()) {
        if (!wantsWatch(info.config, info.paused, info.removed)) continue;
        wanted.add(info.name);
        const { key, filters } = watchInputs(info.config, global);
        const entry = entries.get(info.name);
        if (entry?.key === key && !(retryFailed && entry.status.state === 'failed')) continue;
        open(info.config, key, filters, entry ? closeEntry(info.name) : undefined);
        deps.changed(info.name);
      }
    }
    for (const name of [...entries.keys()]) if (!wanted.has(name)) closeEntry(name);
  }

  function onSchedulerEvent(event: SchedulerEvent): void {
    switch (event.type) {
      case 'job-added':
      case 'job-changed':
      case 'job-removed':
        reconcile(false);
        break;
      case 'run-started': {
        const entry = entries.get(event.job);
        if (!entry) break;
        const info = scheduler.info(event.job);
        // A dry run writes nothing and must not swallow the changes waiting for a real run.
        const global = deps.globalSettings();
        if (info && global && isDryRun(info.config, global, info.runRequest ?? {})) break;
        entry.running = true;
        entry.runId = event.runId;
        entry.collector = collectLocalWrites(info?.config.local ?? '');
        entry.trigger.runStarted();
        break;
      }
      case 'run-finished': {
        const entry = entries.get(event.record.job);
        if (!entry?.running || event.record.runId !== entry.runId) break; // a queued run dropped before it started, or a dry run
        entry.running = false;
        const writes = entry.collector?.writes() ?? { paths: new Set<string>(), complete: false };
        entry.collector = undefined;
        entry.endedRunId = event.record.runId;
        entry.trigger.runEnded(writes);
        decideAfterEchoes(event.record.job, event.record.runId, entry).catch((error: unknown) => logger.error('cannot decide what follows the run', { job: event.record.job, runId: event.record.runId, error: String(error) }));
        break;
      }
    }
  }

  /**
   * The run's last events reach the watch before its follow-up is decided (a late echo made one extra run), but never
   * wait without bound: an lstat on a hung mount inside the root never returns, and a watch still waiting would
   * never trigger again. At SETTLE_LIMIT_MS, or if settled() fails, the decision is made with what was seen.
   */
  async function decideAfterEchoes(name: string, runId: number, entry: JobWatchEntry): Promise<void> {
    let limit: Timer | undefined;
    try {
      const timedOut = new Promise<'timed-out'>((resolve) => (limit = clock.setTimer(SETTLE_LIMIT_MS, () => resolve('timed-out'))));
      if ((await Promise.race([entry.watcher?.settled(), timedOut])) === 'timed-out') logger.info('the watcher did not settle in time; deciding with the changes seen', { job: name, runId, waitedMs: SETTLE_LIMIT_MS });
    } catch (error) {
      logger.warn('the watcher could not settle; deciding with the changes seen', { job: name, runId, error: String(error) });
    } finally {
      limit?.cancel();
      decide(name, runId, entry);
    }
  }

  function decide(name: string, runId: number, entry: JobWatchEntry): void {
    if (entries.get(name) !== entry) return; // rebuilt or closed meanwhile: its new watch starts afresh
    if (entry.endedRunId !== runId) return; // a later run ended first: its end decided this one (trigger.runEnded)
    const decision = entry.trigger.echoesSettled();
    if (!decision) return;
    logger.info('after the run', { job: name, runId, followUp: decision.kind, reason: decision.kind === 'none' ? decision.reason : undefined, unexplained: decision.unexplained.slice(0, 5) });
  }

  scheduler.on(onSchedulerEvent);

  return {
    start() {
      if (started || closed) return;
      started = true;
      reconcile(false);
    },
    reconcile,
    messageHook(job) {
      return (message) => entries.get(job)?.collector?.message(message);
    },
    statusOf: (job) => entries.get(job)?.status ?? WATCH_OFF,
    close() {
      closed = true;
      for (const name of [...entries.keys()]) closeEntry(name);
    },
  };
}
