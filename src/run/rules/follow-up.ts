// What a run does after one rclone attempt (pure): try again once after removing a stale lock, resync once
// automatically (filters changed, a lockout the job may heal, an interrupted run rclone can recover), or stop; and
// which extra bisyncs follow a good run (docs/engine.md "Retries" and "Which run comes next").

import type { Classification } from './classify.js';
import type { ResyncReason, RunPlan } from './plan.js';

/** What the attempt loop knows after one attempt. */
export interface AttemptFacts {
  plan: Pick<RunPlan, 'operation' | 'dryRun'>;
  /** rclone was stopped on purpose (the run's cancel). */
  cancelled: boolean;
  /** A stale lock was already removed once in this run. */
  retriedLock: boolean;
  /** This run already switched to an automatic resync. */
  autoResynced: boolean;
  /** The job's auto_resync setting. */
  autoResync: boolean;
  /** The previous run of the job was interrupted. */
  wasInterrupted: boolean;
  /** rclone has --resync-mode (a resync that keeps the newer side, safe after an interruption). */
  hasResyncMode: boolean;
}

export type NextAttempt =
  /** Remove the stale rclone lock; run again when one was removed. */
  | { kind: 'remove-stale-lock' }
  /** Run again as this automatic resync. */
  | { kind: 'auto-resync'; reason: Extract<ResyncReason, 'filters-changed' | 'auto-resync' | 'interrupted'> }
  | { kind: 'done' };

/** After one attempt classified as `c`: another attempt, or done. Each follow-up happens at most once per run. */
export function nextAttempt(c: Pick<Classification, 'followUp'>, facts: AttemptFacts): NextAttempt {
  if (facts.cancelled) return { kind: 'done' };
  if (c.followUp === 'stale-lock' && !facts.retriedLock) return { kind: 'remove-stale-lock' };
  if (facts.plan.dryRun || facts.autoResynced || facts.plan.operation !== 'bisync') return { kind: 'done' };
  if (c.followUp === 'auto-resync') return { kind: 'auto-resync', reason: 'filters-changed' };
  if (c.followUp === 'lockout' && facts.autoResync) return { kind: 'auto-resync', reason: 'auto-resync' };
  if (c.followUp === 'lockout' && facts.wasInterrupted && facts.hasResyncMode) return { kind: 'auto-resync', reason: 'interrupted' };
  return { kind: 'done' };
}

/** What follows a good run. */
export interface AfterGoodRun {
  /** One normal bisync right after a resync writes the *.lst-old backup that --recover needs. */
  backupBisync: boolean;
  /** The switch-over to checksums: one more bisync writes every listing line afresh, with hashes. */
  checksumSettle: boolean;
}

export function afterGoodRun(facts: { plan: Pick<RunPlan, 'operation' | 'dryRun'>; ok: boolean; aborted: boolean; hasRecover: boolean; settle: boolean }): AfterGoodRun {
  const going = facts.ok && !facts.aborted;
  return {
    backupBisync: going && facts.plan.operation === 'resync' && !facts.plan.dryRun && facts.hasRecover,
    checksumSettle: going && facts.settle && facts.plan.operation === 'bisync',
  };
}
