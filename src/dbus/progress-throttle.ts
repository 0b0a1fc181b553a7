// JobProgress at most MAX_PROGRESS_PER_SECOND per job: the first update goes out at once, later ones within the
// gap are held and only the newest is sent when the gap has passed (a slow client never falls behind rclone).

import type { Progress } from '../run/types.js';
import { MAX_PROGRESS_PER_SECOND } from './contract.js';

export interface ProgressThrottle {
  push(job: string, runId: number, progress: Progress): void;
  /** Forget the job's held update (its run finished or the job is gone). */
  drop(job: string): void;
  clear(): void;
}

interface Slot {
  last: number;
  pending?: { runId: number; progress: Progress } | undefined;
  timer?: NodeJS.Timeout | undefined;
}

export function createProgressThrottle(send: (job: string, runId: number, progress: Progress) => void): ProgressThrottle {
  const minGapMs = 1000 / MAX_PROGRESS_PER_SECOND;
  const perJob = new Map<string, Slot>();

  function sendHeld(job: string, slot: Slot): void {
    slot.timer = undefined;
    const pending = slot.pending;
    slot.pending = undefined;
    if (pending && perJob.get(job) === slot) {
      slot.last = Date.now();
      send(job, pending.runId, pending.progress);
    }
  }

  const throttle: ProgressThrottle = {
    push(job, runId, progress) {
      const slot = perJob.get(job) ?? { last: 0 };
      perJob.set(job, slot);
      const now = Date.now();
      if (now - slot.last >= minGapMs && !slot.timer) {
        slot.last = now;
        send(job, runId, progress);
        return;
      }
      slot.pending = { runId, progress };
      slot.timer ??= setTimeout(() => sendHeld(job, slot), Math.max(0, minGapMs - (now - slot.last)));
    },
    drop(job) {
      const slot = perJob.get(job);
      if (slot?.timer) clearTimeout(slot.timer);
      perJob.delete(job);
    },
    clear() {
      for (const job of [...perJob.keys()]) throttle.drop(job);
    },
  };
  return throttle;
}
