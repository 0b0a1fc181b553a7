// The alerts of the running service (issue 15): listens to the ControlApi events, asks src/alerts what to announce,
// logs each event at the priority the journal filters on, runs the on_attention hook and shows desktop
// notifications. Nothing here waits in a sync's path: events are queued (bounded) and sent one at a time.
import type { ControlApi, JobStatus } from '../api/control-api.js';
import type { AlertSettings } from '../config/types.js';
import { actionPairs, detailsArgv, invokedAction } from '../alerts/actions.js';
import { createBurstGate, latestHeld, summaryEvent, type BurstGate } from '../alerts/burst.js';
import { conflictsEvent, eventText, markupSafe, watchOffEvent, type AlertEvent } from '../alerts/events.js';
import { isSnoozed, wantedAtLevel } from '../alerts/filter.js';
import { createNotificationIds, SUMMARY_JOB } from '../alerts/replaces.js';
import { createAlertTracker } from '../alerts/tracker.js';
import { errorText } from '../errors.js';
import type { DesktopNotification } from '../platform/desktop-notifier.js';
import type { HookCall } from '../platform/hook-runner.js';
import type { Clock, Logger, Timer } from '../ports.js';

export const APP_NAME = 'rclone-bisync-manager';

/** The parts alerts drive (the real ones are in src/platform; tests may pass doubles). */
export interface AlertOutlets {
  desktop: {
    capabilities(): Promise<readonly string[] | undefined>;
    notify(notification: DesktopNotification): Promise<number | undefined>;
    close(): void;
  };
  hooks: { run(call: HookCall): void; close(): Promise<void> };
  /** Start the details command (detached). */
  launch(argv: readonly string[]): void;
}

export interface AlertsDeps extends AlertOutlets {
  api: ControlApi;
  clock: Clock;
  logger: Logger;
  /** global.notification_details_command of the config in force (argv with `{job}`). */
  detailsCommand(): readonly string[];
  /** Notifications waiting to be sent at most; more are dropped (default 100). */
  maxQueued?: number;
}

export interface Alerts {
  /** Announce the jobs that already need a person (start-up), then follow the events. */
  start(): void;
  /** The desktop notifier calls these (ActionInvoked, NotificationClosed, a new server). */
  actionInvoked(id: number, key: string): void;
  notificationClosed(id: number): void;
  serverChanged(): void;
  /** Resolves once every queued notification was sent (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The one journal line per problem. Error (so also an error.log line: the job, what happened, what to do) for what
 * stops the job until a person acts: attention, and failing (failures_before_alert runs in a row). Warning for
 * stale and conflicts; a recovery at info. Run ends are info lines (src/run/run-finish.ts).
 */
// watch-off is info here: the watch itself logs the one warning (service/watching.ts).
const LOG_LEVEL: Record<AlertEvent['kind'], 'error' | 'warn' | 'info'> = { attention: 'error', failing: 'error', stale: 'warn', conflicts: 'warn', ok: 'info', 'watch-off': 'info' };

/** The event's line, with what to do when its body does not already say it. */
function journalText(event: AlertEvent): string {
  const text = event.kind === 'ok' ? eventText(event) : `needs a look (${event.kind}): ${eventText(event)}`;
  return event.hint === '' || event.body.includes(event.hint) ? text : `${text.replace(/\.+$/, '')}. What to do: ${event.hint}`;
}

export function createAlerts(deps: AlertsDeps): Alerts {
  const { api, clock, logger } = deps;
  const maxQueued = deps.maxQueued ?? 100;
  const tracker = createAlertTracker();
  /** Each job's last watch state: a watch that turns failed is announced once (sync on change, issue 16). */
  const watchStates = new Map<string, string>();
  const ids = createNotificationIds();
  const burst: BurstGate = createBurstGate();
  const unsubscribe: (() => void)[] = [];
  let burstTimer: Timer | undefined;
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  let droppedReported = false;
  /** Events per job and slot waiting in the queue (a later one of the slot replaces them: no new pop-up). */
  const queuedBySlot = new Map<string, number>();
  /** The problems the last burst summary shows, by job (a job with no notification of its own). */
  let summarised = new Map<string, AlertEvent>();
  /** Recoveries of summarised jobs, folded into the summary. */
  let summaryRecovered: AlertEvent[] = [];
  /** Each queued event's number, in order; the events numbered up to `staleUpTo` were queued before the server last failed. */
  let enqueuedCount = 0;
  let staleUpTo = 0;

  /** Journal priorities (issue 15 point 5): LOG_LEVEL. */
  function journal(event: AlertEvent, silenced: string | undefined): void {
    const log = logger.child({ job: event.job, ...(event.runId > 0 ? { runId: event.runId } : {}) });
    log[LOG_LEVEL[event.kind]](journalText(event), {
      ...(silenced !== undefined ? { notification: silenced } : {}),
    });
  }

  function hookCall(event: AlertEvent, settings: AlertSettings): void {
    if (settings.onAttention.length === 0) return;
    deps.hooks.run({
      argv: settings.onAttention,
      job: event.job,
      env: { RBM_JOB: event.job, RBM_STATE: event.kind, RBM_MESSAGE: eventText(event), RBM_HINT: event.hint, RBM_RUN_ID: String(event.runId) },
    });
  }

  /** No server took it (none, or a stuck one timed out): what was queued meanwhile is old news, not replayed. */
  function serverMissed(): void {
    staleUpTo = enqueuedCount;
  }

  async function show(event: AlertEvent, seq: number): Promise<void> {
    // Shutting down: what is still queued is dropped (at most the call in flight is waited for, ≤ its timeout).
    if (stopped || seq <= staleUpTo) return;
    const caps = await deps.desktop.capabilities();
    if (caps === undefined) {
      serverMissed();
      return;
    }
    const id = await deps.desktop.notify({
      appName: APP_NAME,
      replacesId: ids.replacesId(event.job, event.slot),
      icon: event.icon,
      summary: markupSafe(event.summary, caps),
      body: markupSafe(event.body, caps),
      actions: actionPairs(event.actions, caps.includes('actions')),
      urgency: event.urgency,
      category: event.category,
      desktopEntry: APP_NAME,
      expireTimeoutMs: -1,
    });
    if (id === undefined) serverMissed();
    else if (id > 0) ids.remember(id, { job: event.job, slot: event.slot, actions: event.actions });
  }

  const slotKey = (event: Pick<AlertEvent, 'job' | 'slot'>): string => `${event.slot}\u0000${event.job}`;

  /** Sent in order (a recovery needs the id its problem got), never awaited by the caller. */
  function enqueue(event: AlertEvent): void {
    if (queued >= maxQueued) {
      if (!droppedReported) logger.warn('too many desktop notifications waiting; dropping the newest', { job: event.job });
      droppedReported = true;
      return;
    }
    queued += 1;
    const seq = ++enqueuedCount;
    const key = slotKey(event);
    queuedBySlot.set(key, (queuedBySlot.get(key) ?? 0) + 1);
    queue = queue
      .then(() => show(event, seq))
      .catch((e: unknown) => logger.warn('desktop notification failed', { job: event.job, error: errorText(e) }))
      .finally(() => {
        queued -= 1;
        const left = (queuedBySlot.get(key) ?? 1) - 1;
        if (left > 0) queuedBySlot.set(key, left);
        else queuedBySlot.delete(key);
        if (queued === 0) droppedReported = false;
      });
  }

  /** The job and slot already has a notification shown or on its way: the event replaces it, no new pop-up. */
  function isReplacement(event: AlertEvent): boolean {
    return ids.replacesId(event.job, event.slot) > 0 || queuedBySlot.has(slotKey(event));
  }

  /** Still to be shown when its burst ends: the job exists, is not snoozed (nor all jobs), and wants it at its level. */
  function stillWanted(event: AlertEvent): boolean {
    const status = jobNamed(event.job);
    return status !== undefined && !isSnoozed(status.snoozedUntilMs, clock.now()) && wantedAtLevel(event.kind, status.config.alerts.notifications);
  }

  /** The held events of a finished burst: one of them as itself, more as one summary. */
  function showHeld(ended: readonly AlertEvent[]): void {
    const held = latestHeld(ended).filter(stillWanted);
    if (held.length === 0) return;
    if (held.length === 1) {
      enqueue(held[0]!);
      return;
    }
    summarised = new Map(held.filter((e) => e.slot === 'health' && e.kind !== 'ok').map((e) => [e.job, e]));
    summaryRecovered = [];
    enqueue(summaryEvent(held));
  }

  /** A job known only from the summary is healthy again: the summary is replaced (no pop-up of its own). */
  function foldIntoSummary(event: AlertEvent): void {
    summarised.delete(event.job);
    summaryRecovered.push(event);
    enqueue(summarised.size > 0 ? summaryEvent([...summarised.values()]) : summaryEvent(summaryRecovered));
  }

  /** A run is running or queued: more events of the same burst may come. */
  function runsBusy(): boolean {
    const summary = api.summary();
    return summary.runningJobs.length > 0 || summary.queuedJobs.length > 0;
  }

  /** End the burst if it is over (its timer, or the runs became idle after a quiet spell). */
  function settleBurst(): void {
    burstTimer = undefined;
    showHeld(burst.end(clock.now(), runsBusy()));
    armBurstTimer();
  }

  function armBurstTimer(): void {
    burstTimer?.cancel();
    burstTimer = undefined;
    const due = burst.dueAtMs(runsBusy());
    if (due !== undefined && !stopped) burstTimer = clock.setTimer(Math.max(due - clock.now(), 0), settleBurst);
  }

  function announce(event: AlertEvent, settings: AlertSettings, snoozedUntilMs: number): void {
    if (event.quiet !== undefined) {
      journal(event, event.quiet);
      return;
    }
    if (!wantedAtLevel(event.kind, settings.notifications)) {
      journal(event, `notifications: ${settings.notifications}`);
      return;
    }
    if (isSnoozed(snoozedUntilMs, clock.now())) {
      journal(event, 'snoozed');
      return;
    }
    journal(event, undefined);
    if (event.slot === 'health') tracker.markAnnounced(event.job);
    hookCall(event, settings);
    if (event.kind === 'ok' && summarised.has(event.job) && !isReplacement(event)) {
      foldIntoSummary(event);
      return;
    }
    if (event.slot === 'health' && event.kind !== 'ok') summarised.delete(event.job);
    // A replacement adds no pop-up: the burst gate is only for new notifications.
    if (isReplacement(event)) {
      enqueue(event);
      return;
    }
    const { show: now, ended } = burst.offer(event, clock.now());
    showHeld(ended);
    if (now) enqueue(event);
    armBurstTimer();
  }

  function onStatus(status: JobStatus): void {
    if (stopped) return;
    const event = tracker.observe(status);
    if (event) announce(event, status.config.alerts, status.snoozedUntilMs);
    // A run ended or left the queue: a quiet burst may be over now.
    else if (burst.open()) settleBurst();
    const watchOff = watchOffEvent(status, watchStates.get(status.name));
    watchStates.set(status.name, status.watch?.state ?? 'off');
    if (watchOff) announce(watchOff, status.config.alerts, status.snoozedUntilMs);
  }

  function jobNamed(name: string): JobStatus | undefined {
    try {
      return api.jobStatus(name);
    } catch {
      return undefined; // removed meanwhile
    }
  }

  function runAction(job: string, action: 'sync' | 'details' | 'review'): void {
    if (action === 'sync') {
      logger.info('"Sync now" from a notification', { job });
      api.sync([job], { trigger: 'manual' }).catch((e: unknown) => logger.warn('"Sync now" from a notification was refused', { job, error: errorText(e) }));
      return;
    }
    const argv = detailsArgv(deps.detailsCommand(), job, action === 'review');
    logger.info('opening the details from a notification', { job, command: argv[0] });
    deps.launch(argv);
  }

  return {
    start() {
      unsubscribe.push(
        api.on('jobChanged', onStatus),
        api.on('jobAdded', onStatus),
        api.on('jobRemoved', (name) => {
          tracker.forget(name);
          watchStates.delete(name);
        }),
        api.on('jobFinished', (record) => {
          const event = conflictsEvent(record);
          const status = event ? jobNamed(record.job) : undefined;
          if (event && status && !stopped) announce(event, status.config.alerts, status.snoozedUntilMs);
        }),
      );
      // A job that needs a person when the service starts is announced once (not what happened while it was down).
      for (const status of api.status().jobs) onStatus(status);
    },
    actionInvoked(id, key) {
      const shown = ids.lookup(id);
      const action = shown ? invokedAction(key, shown.actions) : undefined;
      if (!shown || !action || stopped) return;
      if (shown.job === SUMMARY_JOB && action === 'sync') return;
      runAction(shown.job, action);
    },
    notificationClosed(id) {
      // The person closed the summary: a recovery of a job it listed is not shown again.
      if (ids.lookup(id)?.job === SUMMARY_JOB) summarised = new Map();
      ids.closed(id);
    },
    serverChanged() {
      ids.clear();
      summarised = new Map();
    },
    idle: () => queue,
    async stop() {
      stopped = true;
      for (const u of unsubscribe) u();
      burstTimer?.cancel();
      await queue;
      deps.desktop.close();
      await deps.hooks.close();
    },
  };
}
