// The notification ids the server gave us, per job and slot: the next event of the slot replaces it (replaces_id),
// an action names the job back, and a closed notification is forgotten (its id is invalid afterwards). Pure.

import type { AlertAction, AlertSlot } from './events.js';

/** The job of a burst summary notification. */
export const SUMMARY_JOB = '';

export interface Shown {
  job: string;
  slot: AlertSlot;
  actions: readonly AlertAction[];
}

export interface NotificationIds {
  /** The id to replace for this job and slot (0 = a new notification). */
  replacesId(job: string, slot: AlertSlot): number;
  remember(id: number, shown: Shown): void;
  /** What an id shows, for ActionInvoked. */
  lookup(id: number): Shown | undefined;
  closed(id: number): void;
  /** The notification server changed: its ids mean nothing to the new one. */
  clear(): void;
}

export function createNotificationIds(): NotificationIds {
  const bySlot = new Map<string, number>();
  const byId = new Map<number, Shown>();
  const slotKey = (job: string, slot: AlertSlot): string => `${slot}\u0000${job}`;
  return {
    replacesId: (job, slot) => bySlot.get(slotKey(job, slot)) ?? 0,
    remember(id, shown) {
      const key = slotKey(shown.job, shown.slot);
      const old = bySlot.get(key);
      if (old !== undefined && old !== id) byId.delete(old);
      // The server reused the id (or gave one another slot had): that slot's notification is gone.
      const previous = byId.get(id);
      if (previous !== undefined && slotKey(previous.job, previous.slot) !== key) bySlot.delete(slotKey(previous.job, previous.slot));
      bySlot.set(key, id);
      byId.set(id, shown);
    },
    lookup: (id) => byId.get(id),
    closed(id) {
      const shown = byId.get(id);
      if (!shown) return;
      byId.delete(id);
      const key = slotKey(shown.job, shown.slot);
      if (bySlot.get(key) === id) bySlot.delete(key);
    },
    clear() {
      bySlot.clear();
      byId.clear();
    },
  };
}
