// Whether an event reaches the person: the job's `notifications` level and the snooze. Pure.

import type { AlertSettings } from '../config/types.js';
import type { AlertKind } from './events.js';

/** none: nothing; attention: a job's health (attention, failing, stale) and its recovery; all: also conflicts. */
export function wantedAtLevel(kind: AlertKind, level: AlertSettings['notifications']): boolean {
  if (level === 'none') return false;
  return level === 'all' || kind !== 'conflicts';
}

/** A snoozed job is silenced (desktop and hook); what happens meanwhile is not replayed when the snooze ends. */
export function isSnoozed(snoozedUntilMs: number, nowMs: number): boolean {
  return snoozedUntilMs > nowMs;
}
