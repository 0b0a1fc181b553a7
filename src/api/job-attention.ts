// What a job waits for from a person, decided once from its state: the outcome it is parked in (its activity, the
// status line) and the refusal of a run of a locked-out job (the service's Sync, the scheduler, the runner's plan).
// Pure.

import type { JobConfig } from '../config/types.js';
import { RbmError } from '../errors.js';
import type { JobState, RunRequest } from '../run/types.js';
import { renderHint } from './hints.js';

/** The outcomes a job stays parked in until its state changes (each is also a job activity). */
export type WaitingOutcome = 'needs-resync' | 'needs-approval' | 'check-failed';

/** What the job waits for, the most serious first (a lockout, then an approval, then a side that looked missing). */
export function waitingOutcome(state: Pick<JobState, 'needsResync' | 'needsApproval' | 'sideCheck'>): WaitingOutcome | undefined {
  if (state.needsResync) return 'needs-resync';
  if (state.needsApproval) return 'needs-approval';
  if (state.sideCheck !== null) return 'check-failed';
  return undefined;
}

/**
 * A lockout nothing healed stops the job until the user asks for a resync; with auto_resync the next run resyncs by
 * itself (run/rules/plan.ts). A job waiting for approval is not locked out: each run previews again.
 */
export function isLockedOut(job: Pick<JobConfig, 'autoResync'>, state: Pick<JobState, 'needsResync'>, request: Pick<RunRequest, 'resync'> = {}): boolean {
  return state.needsResync && !job.autoResync && request.resync !== true;
}

/** The refusal of a run of a locked-out job: what happened, and the command that unblocks it with the name filled in. */
export function lockoutRefusal(name: string, state: Pick<JobState, 'lastMessage'>): RbmError {
  return new RbmError('NeedsResync', `job '${name}' needs a resync: ${state.lastMessage || 'its listings are unusable'}`, {
    hint: renderHint('Check both sides, then run: rbmctl sync JOB --resync', name),
  });
}
