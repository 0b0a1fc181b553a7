// Which queued runs wait for their job's run conditions (issue 17), pure. A trigger the user gave by hand (rbmctl
// sync, Approve, AddJob's first run) runs anyway, unless it asked to respect the conditions; every other trigger
// (schedule, missed, retry, start-up, a catch-up) waits until they are met.
import type { JobConfig } from '../config/types.js';
import type { RunRequest } from '../run/types.js';

/** The scheduler asks this before starting a run that respects the conditions: true, or why it waits ("on battery"). */
export type MayStart = (job: JobConfig, request: RunRequest) => true | string;

/** A trigger the user gave by hand (rbmctl sync, Approve, AddJob's first run); every other one is automatic. */
export function explicitTrigger(request: RunRequest): boolean {
  return request.trigger === 'manual' || request.trigger === 'add-job';
}

/** True when the run waits for the job's run conditions. */
export function respectsConditions(request: RunRequest): boolean {
  return !explicitTrigger(request) || request.respectConditions === true;
}

/**
 * Whether a merged run respects the conditions: only when every request in it does (a plain `rbmctl sync` joining a
 * waiting scheduled run starts it now: the user asked for a run now).
 */
export function mergedRespectsConditions(a: RunRequest, b: RunRequest): boolean {
  return respectsConditions(a) && respectsConditions(b);
}

/**
 * The first queued run (in trigger order) that may start now, and the text of why the others wait ('' when none
 * waits on a condition). `mayStart` is only asked about the runs that respect the conditions.
 */
export function pickStartable<T extends { request: RunRequest }>(job: JobConfig, pending: readonly T[], mayStart: MayStart | undefined): { index: number; waiting: string } {
  let waiting = '';
  for (let i = 0; i < pending.length; i++) {
    const request = pending[i]!.request;
    const verdict = mayStart === undefined || !respectsConditions(request) ? true : mayStart(job, request);
    if (verdict === true) return { index: i, waiting };
    if (waiting === '') waiting = verdict;
  }
  return { index: -1, waiting };
}
