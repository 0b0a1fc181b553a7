// Which problem each job was last seen with, and whether it was announced: one notification per job and problem,
// and a "healthy again" shown only after a problem the person was told about (otherwise it is only logged). Pure.

import type { JobStatus } from '../api/control-api.js';
import { problemEvent, problemKeyOf, recoveryEvent, type AlertEvent } from './events.js';

interface JobTrack {
  problem: string;
  announced: boolean;
}

export interface AlertTracker {
  /** The event a job's new status calls for: a new problem, or its recovery (quiet when the problem was never announced); else undefined. */
  observe(status: JobStatus): AlertEvent | undefined;
  /** The job's current problem reached the person (a notification or the hook): its recovery will be announced. */
  markAnnounced(job: string): void;
  /** A removed job. */
  forget(job: string): void;
}

export function createAlertTracker(): AlertTracker {
  const tracks = new Map<string, JobTrack>();
  return {
    observe(status) {
      const key = problemKeyOf(status);
      const previous = tracks.get(status.name) ?? { problem: 'ok', announced: false };
      if (key === previous.problem) return undefined;
      tracks.set(status.name, { problem: key, announced: false });
      if (key === 'ok') return previous.announced ? recoveryEvent(status) : { ...recoveryEvent(status), quiet: true };
      return problemEvent(status);
    },
    markAnnounced(job) {
      const track = tracks.get(job);
      if (track && track.problem !== 'ok') track.announced = true;
    },
    forget(job) {
      tracks.delete(job);
    },
  };
}
