// Backoff for retryable failures: capped exponential, 30 s doubling up to 30 min (pure).
import type { Outcome } from '../../api/outcomes.js';

export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 30 * 60_000;

/** Delay before the next retry after `consecutiveFailures` failures in a row (1 → 30 s, 2 → 60 s, … ≤ 30 min). */
export function retryDelayMs(consecutiveFailures: number): number {
  const n = Math.max(1, Math.floor(consecutiveFailures));
  if (n > 20) return RETRY_MAX_MS; // 2^20 * 30 s is far past the cap; avoid huge numbers
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (n - 1));
}

/**
 * A retry may cure this outcome: the runs the backoff is for (the job state's retry time, plan.ts nextState) and the
 * ones a catch-up brings forward (scheduler/catch-up.ts). The one place that says which they are.
 */
export function isRetryableOutcome(outcome: Outcome | 'never'): boolean {
  return outcome === 'retryable' || outcome === 'locked';
}
