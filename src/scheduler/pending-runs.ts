// The runs a job has queued while it is busy: at most one real run and one dry run, each merged only with triggers
// of its own kind, so a dry request's flags never reach a real run and every caller gets the run it asked for. Pure.
import type { RunRequest } from '../run/types.js';
import { explicitTrigger, mergedRespectsConditions } from './run-gate.js';

export interface PendingRun {
  runId: number;
  request: RunRequest;
}

/** A dry run and a real run are different things to ask for: they never share a pending run. */
export function isDryRequest(request: RunRequest): boolean {
  return request.dryRun === true;
}

/**
 * Two triggers of the same kind (both dry or both real) for one pending run. Flags come only from the callers that
 * asked for them (a schedule, retry or start-up trigger has none, so it never adds one): a plain trigger joins a
 * flagged run (that run syncs too), two explicit requests add up (`resync` wins over `force`: a resync deletes nothing).
 */
export function mergeSameKind(a: RunRequest, b: RunRequest): RunRequest {
  if (isDryRequest(a) !== isDryRequest(b)) throw new Error('a dry run and a real run never merge');
  const merged: RunRequest = {};
  if (a.resync === true || b.resync === true) merged.resync = true;
  if (a.force === true || b.force === true) merged.force = true;
  const token = b.approvalToken ?? a.approvalToken; // the newest approval is the one the user saw last
  if (token !== undefined) merged.approvalToken = token;
  if (isDryRequest(a)) merged.dryRun = true;
  const trigger = explicitTrigger(a) || !explicitTrigger(b) ? a.trigger : b.trigger;
  if (trigger !== undefined) merged.trigger = trigger;
  // An explicit trigger that waits for the run conditions keeps waiting only when every merged request does.
  if (merged.trigger !== undefined && explicitTrigger(merged) && mergedRespectsConditions(a, b)) merged.respectConditions = true;
  return merged;
}

/**
 * Queue `request` into `pending` (changed in place, kept in trigger order). Joins the pending run of the same kind
 * when there is one; otherwise a new run gets an id from `newRunId`. Returns the run id the caller waits for.
 */
export function addPendingRun(pending: PendingRun[], request: RunRequest, newRunId: () => number): { runId: number; added: boolean } {
  const same = pending.find((p) => isDryRequest(p.request) === isDryRequest(request));
  if (same) {
    same.request = mergeSameKind(same.request, request);
    return { runId: same.runId, added: false };
  }
  const runId = newRunId();
  pending.push({ runId, request });
  return { runId, added: true };
}
