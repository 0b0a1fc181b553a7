// Which problem each job was last seen with, and whether it was announced: one notification per job and problem,
// and a "healthy again" shown only after a problem the person was told about (otherwise it is only logged), and
// only when the job really synced since the problem was seen (a job paused, set inactive, or no longer counted as a
// problem after a reload, or a failed check followed by a failed run, is no recovery: that is only logged). Pure.

import type { JobStatus } from '../api/control-api.js';
import { isOkOutcome } from '../api/outcomes.js';
import { noLongerFlaggedEvent, problemEvent, problemKeyOf, recoveryEvent, type AlertEvent } from './events.js';

interface JobTrack {
  problem: string;
  announced: boolean;
  /** The job's lastSuccessMs when the problem was first seen: a recovery is a success after it. */
  successMsAtProblem: number;
}

/** The job synced successfully after the problem was seen (not: paused, inactive, thresholds raised, a failed run). */
function reallySynced(status: JobStatus, track: JobTrack): boolean {
  const { lastOutcome, lastSuccessMs } = status.state;
  return lastOutcome !== 'never' && isOkOutcome(lastOutcome) && lastSuccessMs > track.successMsAtProblem;
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
      const previous = tracks.get(status.name) ?? { problem: 'ok', announced: false, successMsAtProblem: 0 };
      if (key === previous.problem) return undefined;
      // A problem replacing another keeps the first one's reference: "synced since the job needed a look".
      const successMsAtProblem = previous.problem === 'ok' ? status.state.lastSuccessMs : previous.successMsAtProblem;
      tracks.set(status.name, { problem: key, announced: false, successMsAtProblem });
      if (key !== 'ok') return problemEvent(status);
      if (!reallySynced(status, previous)) return noLongerFlaggedEvent(status);
      return previous.announced ? recoveryEvent(status) : { ...recoveryEvent(status), quiet: 'its problem was not announced' };
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
