// The alerts of the running service (issue 15): listens to the ControlApi events, asks src/alerts what to announce,
// logs each event at the priority the journal filters on, runs the on_attention hook and shows desktop
// notifications. Nothing here waits in a sync's path: events are queued (bounded) and sent one at a time.
import type { ControlApi, JobStatus } from '../api/control-api.js';
import type { AlertSettings } from '../config/types.js';
import { actionPairs, detailsArgv, invokedAction } from '../alerts/actions.js';
import { createBurstGate, latestHeld, summaryEvent, type BurstGate } from '../alerts/burst.js';
import { conflictsEvent, eventText, watchOffEvent, type AlertEvent } from '../alerts/events.js';
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

// watch-off is info here: the watch itself logs the one warning (service/watching.ts).
const LOG_LEVEL: Record<AlertEvent['kind'], 'error' | 'warn' | 'info'> = { attention: 'error', failing: 'warn', stale: 'warn', conflicts: 'warn', ok: 'info', 'watch-off': 'info' };

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

  /** Journal priorities: attention is an error, failing/stale/conflicts warnings, a recovery info (issue 15 point 5). */
  function journal(event: AlertEvent, silenced: string | undefined): void {
    const log = logger.child({ job: event.job, ...(event.runId > 0 ? { runId: event.runId } : {}) });
    log[LOG_LEVEL[event.kind]](`${event.kind === 'ok' ? 'healthy again' : `needs a look (${event.kind})`}: ${eventText(event)}`, {
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

  async function show(event: AlertEvent): Promise<void> {
    // Shutting down: what is still queued is dropped (at most the call in flight is waited for, ≤ its timeout).
    if (stopped) return;
    const caps = await deps.desktop.capabilities();
    if (caps === undefined) return;
    const id = await deps.desktop.notify({
      appName: APP_NAME,
      replacesId: ids.replacesId(event.job, event.slot),
      icon: event.icon,
      summary: event.summary,
      body: event.body,
      actions: actionPairs(event.actions, caps.includes('actions')),
      urgency: event.urgency,
      category: event.category,
      desktopEntry: APP_NAME,
      expireTimeoutMs: -1,
    });
    if (id !== undefined && id > 0) ids.remember(id, { job: event.job, slot: event.slot, actions: event.actions });
  }

  /** Sent in order (a recovery needs the id its problem got), never awaited by the caller. */
  function enqueue(event: AlertEvent): void {
    if (queued >= maxQueued) {
      if (!droppedReported) logger.warn('too many desktop notifications waiting; dropping the newest', { job: event.job });
      droppedReported = true;
      return;
    }
    queued += 1;
    queue = queue
      .then(() => show(event))
      .catch((e: unknown) => logger.warn('desktop notification failed', { job: event.job, error: errorText(e) }))
      .finally(() => {
        queued -= 1;
        if (queued === 0) droppedReported = false;
      });
  }

  /** The held events of a finished burst: one of them as itself, more as one summary. */
  function showHeld(ended: readonly AlertEvent[]): void {
    const held = latestHeld(ended);
    if (held.length > 0) enqueue(held.length === 1 ? held[0]! : summaryEvent(held));
  }

  function endBurst(): void {
    burstTimer = undefined;
    showHeld(burst.end(clock.now()));
    armBurstTimer();
  }

  function armBurstTimer(): void {
    burstTimer?.cancel();
    burstTimer = undefined;
    const due = burst.dueAtMs();
    if (due !== undefined && !stopped) burstTimer = clock.setTimer(Math.max(due - clock.now(), 0), endBurst);
  }

  function announce(event: AlertEvent, settings: AlertSettings, snoozedUntilMs: number): void {
    if (event.quiet === true) {
      journal(event, 'its problem was not announced');
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
    const { show: now, ended } = burst.offer(event, clock.now());
    showHeld(ended);
    if (now) enqueue(event);
    armBurstTimer();
  }

  function onStatus(status: JobStatus): void {
    if (stopped) return;
    const event = tracker.observe(status);
    if (event) announce(event, status.config.alerts, status.snoozedUntilMs);
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
      ids.closed(id);
    },
    serverChanged() {
      ids.clear();
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
