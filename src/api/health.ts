// How a job is doing, in one word and one sentence (issue 15): the D-Bus Health property, Status(), `rbmctl status`
// (its column, --short and its exit code), the notifications and the on_attention hook all read it from here. Pure.

import type { JobState } from '../run/types.js';
import type { JobActivity, JobHealth } from './control-api.js';
import { waitingOutcome } from './job-attention.js';

export interface HealthFacts {
  name: string;
  activity: JobActivity;
  /** Paused by the user or `active: false`: the person chose it, so it is never stale. */
  paused: boolean;
  state: Pick<JobState, 'consecutiveFailures' | 'lastMessage' | 'lastSuccessMs' | 'trackedSinceMs' | 'needsResync' | 'needsApproval' | 'sideCheck' | 'pendingDeleteCount' | 'pendingOverwriteCount'>;
  /** Failed or retryable runs in a row before the job is failing (alerts.failuresBeforeAlert). */
  failuresBeforeAlert: number;
  /**
   * How long without a successful run makes the job stale: its stale_after, else the default of its schedule and its
   * run-condition windows (scheduler/next-run.ts defaultStaleAfterMs: a windowed job runs only inside them).
   */
  staleAfterMs: number;
  /** When this service first saw the job: the reference for a job that has no recorded run at all. */
  knownSinceMs: number;
  /**
   * Every run of the job is a dry run (its dry_run, the global one, or the service's --dry-run): a dry run never
   * records a success, and the person chose it, so the job is never stale. Default false.
   */
  dryRunOnly?: boolean;
  nowMs: number;
}

export interface HealthVerdict {
  health: JobHealth;
  /** Why, naming what to do ('' when ok). */
  reason: string;
}

const OK: HealthVerdict = Object.freeze({ health: 'ok', reason: '' });

/** "3 d 4 h", "2 h 5 min", "12 min": the coarse age a person reads at a glance. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days > 0) return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
  if (hours > 0) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  return `${Math.max(minutes, 1)} min`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function attentionReason(f: HealthFacts): string | undefined {
  const { name, state } = f;
  switch (waitingOutcome(state)) {
    case 'needs-resync':
      return `needs a resync: ${state.lastMessage || 'its listings are unusable'}. Check both sides, then run: rbmctl sync ${name} --resync`;
    case 'needs-approval': {
      const overwrites = state.pendingOverwriteCount > 0 ? ` and ${plural(state.pendingOverwriteCount, 'overwrite')}` : '';
      return `waits for your approval of ${plural(state.pendingDeleteCount, 'delete')}${overwrites}: review them with rbmctl approve ${name}`;
    }
    case 'check-failed':
      return `${state.lastMessage || 'a side looks unmounted or emptied'}; it syncs by itself once the check passes`;
    case undefined:
      return undefined;
  }
}

/** The moment the job last did what it is for: its last success, else its first run, else when the service first saw it. */
export function staleReferenceMs(f: Pick<HealthFacts, 'state' | 'knownSinceMs'>): number {
  if (f.state.lastSuccessMs > 0) return f.state.lastSuccessMs;
  if (f.state.trackedSinceMs > 0) return f.state.trackedSinceMs;
  return f.knownSinceMs;
}

/** Paused or inactive: the person chose it, so the job is never failing or stale. */
function setAside(f: HealthFacts): boolean {
  return f.paused || f.activity === 'inactive';
}

/** Time alone can make the job stale: not set aside, and its runs can record a success (not dry runs only). */
function canGoStale(f: HealthFacts): boolean {
  return !setAside(f) && f.dryRunOnly !== true;
}

/** The health of a job: attention (waits for a person) before failing, failing before stale. */
export function jobHealth(f: HealthFacts): HealthVerdict {
  const attention = attentionReason(f);
  if (attention !== undefined) return { health: 'attention', reason: attention };
  if (setAside(f)) return OK;
  const failures = f.state.consecutiveFailures;
  if (failures >= f.failuresBeforeAlert) {
    return { health: 'failing', reason: `failed ${failures} times in a row: ${f.state.lastMessage || 'see rbmctl history ' + f.name}` };
  }
  if (canGoStale(f) && f.nowMs - staleReferenceMs(f) > f.staleAfterMs) return { health: 'stale', reason: staleReason(f) };
  return OK;
}

/**
 * Why a job is stale. It names stale_after, not the age: the reason must not change with time alone, or the D-Bus
 * property would change without a PropertiesChanged (the age is in Status: lastSuccessMs, trackedSinceMs).
 */
function staleReason(f: HealthFacts): string {
  const limit = formatAge(f.staleAfterMs);
  if (f.state.lastSuccessMs > 0) return `no successful sync for more than ${limit}: see why with rbmctl history ${f.name}`;
  if (f.state.trackedSinceMs > 0) return `has not synced successfully once in more than ${limit}: see why with rbmctl history ${f.name}`;
  return `has not run in more than ${limit}: check its schedule, or run it now with rbmctl sync ${f.name}`;
}

/** When a job that is ok now becomes stale, if nothing else happens (for the one timer that announces it). */
export function staleAtMs(f: Pick<HealthFacts, 'state' | 'knownSinceMs' | 'staleAfterMs'>): number {
  return staleReferenceMs(f) + f.staleAfterMs + 1;
}

/**
 * When the job's health changes if nothing else happens: its staleAtMs while it is ok and can become stale;
 * undefined for a job that is not ok (attention and failing end only by an event) or paused or inactive.
 */
export function healthChangesAtMs(f: HealthFacts): number | undefined {
  if (!canGoStale(f) || jobHealth(f).health !== 'ok') return undefined;
  return staleAtMs(f);
}
