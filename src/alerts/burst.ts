// Many jobs changing at once (20 failing when the network drops) give one summary, not 20 pop-ups: in a burst the
// first events are shown at once, the rest are held and shown as one summary when the burst ends: when it is quiet
// and no run is running or queued (so "20 jobs failing at once" is one burst however long their runs take), or at
// its maximum length. Pure: the caller passes the time and whether runs are busy in, and arms one timer at dueAtMs().

import type { AlertEvent, AlertKind, Urgency } from './events.js';
import { SUMMARY_JOB } from './replaces.js';

export interface BurstPolicy {
  /** Events shown at once in a burst; the rest are summarised. */
  free: number;
  /** The burst ends after this long without an event, once no run is running or queued... */
  quietMs: number;
  /** ...or this long after it began, whichever comes first. */
  maxMs: number;
}

export const DEFAULT_BURST: BurstPolicy = Object.freeze({ free: 2, quietMs: 10_000, maxMs: 60_000 });

/** How many job names a summary lists before "and N more". */
export const SUMMARY_NAMES_SHOWN = 8;

interface Window {
  startMs: number;
  lastMs: number;
  shown: number;
  held: AlertEvent[];
}

/** `busy`: a run is running or queued (more events may be on their way): only the maximum length ends the burst. */
export interface BurstGate {
  /** True: show the event now. False: it is held for the summary (arm a timer at dueAtMs()). */
  offer(event: AlertEvent, nowMs: number): { show: boolean; ended: AlertEvent[] };
  /** When the current burst ends (undefined when there is none). */
  dueAtMs(busy: boolean): number | undefined;
  /** The held events once the burst is over (empty before dueAtMs or when none were held). */
  end(nowMs: number, busy: boolean): AlertEvent[];
  /** A burst is open (its end depends on runs becoming idle). */
  open(): boolean;
}

export function createBurstGate(policy: BurstPolicy = DEFAULT_BURST): BurstGate {
  let window: Window | undefined;
  const dueAtMs = (busy: boolean): number | undefined => {
    if (!window) return undefined;
    const maxEnd = window.startMs + policy.maxMs;
    return busy ? maxEnd : Math.min(window.lastMs + policy.quietMs, maxEnd);
  };
  function end(nowMs: number, busy: boolean): AlertEvent[] {
    const due = dueAtMs(busy);
    if (!window || due === undefined || nowMs < due) return [];
    const held = window.held;
    window = undefined;
    return held;
  }
  return {
    offer(event, nowMs) {
      // A burst past its maximum whose timer has not fired yet (a late timer) ends first. Not one that is only
      // quiet: whether runs were idle during the quiet spell is the caller's timer's to say (settled on idle).
      const ended = end(nowMs, true);
      window ??= { startMs: nowMs, lastMs: nowMs, shown: 0, held: [] };
      window.lastMs = nowMs;
      if (window.shown < policy.free) {
        window.shown += 1;
        return { show: true, ended };
      }
      window.held.push(event);
      return { show: false, ended };
    },
    dueAtMs,
    end,
    open: () => window !== undefined,
  };
}

/** What the held events still mean when the burst ends: only the latest per job and slot (failing, then healthy again → healthy again). */
export function latestHeld(held: readonly AlertEvent[]): AlertEvent[] {
  const latest = new Map<string, AlertEvent>();
  for (const event of held) {
    const key = `${event.slot}\u0000${event.job}`;
    latest.delete(key);
    latest.set(key, event);
  }
  return [...latest.values()];
}

const SEVERITY: AlertKind[] = ['attention', 'failing', 'stale', 'conflicts', 'ok'];

/** One notification for the held events of a burst (the same job may appear once per event; it is listed once). */
export function summaryEvent(held: readonly AlertEvent[]): AlertEvent {
  const kind = SEVERITY.find((k) => held.some((e) => e.kind === k)) ?? 'failing';
  const urgency = Math.max(...held.map((e) => e.urgency)) as Urgency;
  const jobs = [...new Set(held.map((e) => e.job))];
  const allOk = held.every((e) => e.kind === 'ok');
  const names = jobs.slice(0, SUMMARY_NAMES_SHOWN).join(', ') + (jobs.length > SUMMARY_NAMES_SHOWN ? ` and ${jobs.length - SUMMARY_NAMES_SHOWN} more` : '');
  const lines = held.slice(0, SUMMARY_NAMES_SHOWN).map((e) => e.summary);
  return {
    job: SUMMARY_JOB,
    kind,
    slot: 'health',
    problemKey: 'summary',
    runId: 0,
    urgency,
    icon: allOk ? 'folder-sync' : 'dialog-warning',
    category: allOk ? 'transfer.complete' : 'transfer.error',
    summary: allOk ? `${jobs.length} more jobs are healthy again` : `${jobs.length} more jobs need a look`,
    body: `${names}.\n${lines.join('\n')}${held.length > lines.length ? '\n…' : ''}\nSee: rbmctl status`,
    hint: 'rbmctl status',
    actions: ['details'],
  };
}
