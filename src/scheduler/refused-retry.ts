// Runs the job lock refused (another process held the job) are retried by the scheduler with the same backoff as a
// `locked` run. Kept in memory: the job's state file belongs to the process holding the lock, so it is not written. Pure.
import type { RunRequest } from '../run/types.js';
import { retryDelayMs } from '../run/rules/retry.js';
import { isDryRequest } from './pending-runs.js';

export interface RefusedRetry {
  /** When to retry; 0 once the retry is queued (kept for the backoff until a run of its kind gets through). */
  atMs: number;
  /** Refusals in a row for this kind of run (the backoff step). */
  refusals: number;
  request: RunRequest;
}

/**
 * What a retry asks for: the refused run's own kind (dry stays dry, a requested resync stays one), but never a bare `force`.
 * The other process's run may have changed what would be deleted, so a forced retry could delete what nobody approved;
 * a token-bound approval is kept (the approved run previews again and stays within the list the user saw).
 */
export function retryRequestOf(request: RunRequest): RunRequest {
  const retry: RunRequest = { trigger: 'retry' };
  if (request.resync === true) retry.resync = true;
  if (isDryRequest(request)) retry.dryRun = true;
  // A token-bound approval is safe to keep: the approved run previews again and proceeds only within that list.
  if (request.approvalToken !== undefined) retry.approvalToken = request.approvalToken;
  return retry;
}

/**
 * The retries after one more refusal of `request` at `nowMs` (one per kind, dry or real; a new refusal of a kind
 * replaces its retry, one step further in the backoff, keeping a requested resync).
 */
export function afterRefusal(retries: readonly RefusedRetry[], request: RunRequest, nowMs: number): RefusedRetry[] {
  const dry = isDryRequest(request);
  const previous = retries.find((r) => isDryRequest(r.request) === dry);
  const refusals = (previous?.refusals ?? 0) + 1;
  const next = retryRequestOf(request);
  if (previous?.request.resync === true) next.resync = true;
  return [...retries.filter((r) => r !== previous), { atMs: nowMs + retryDelayMs(refusals), refusals, request: next }];
}

/**
 * A run of this kind got past the job lock: a retry it covers is done (a plain run covers neither a requested resync
 * nor an approval: only a run carrying the same token does).
 */
export function afterStart(retries: readonly RefusedRetry[], request: RunRequest): RefusedRetry[] {
  const covers = (r: RefusedRetry): boolean =>
    isDryRequest(r.request) === isDryRequest(request) &&
    (r.request.resync !== true || request.resync === true) &&
    (r.request.approvalToken === undefined || r.request.approvalToken === request.approvalToken);
  return retries.filter((r) => !covers(r));
}
