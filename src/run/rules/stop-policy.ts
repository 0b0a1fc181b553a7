// How a running `rclone bisync` is stopped (pure): the signal depends on the version (docs/engine.md "Stopping").
// ≥ 1.66 shuts down gracefully on one SIGTERM and a second signal defeats that; on 1.60 any SIGTERM/SIGINT marks the
// listings failed (a resync is then forced, and a truncated file on the source side would win it), while SIGKILL
// keeps the listings valid and the stale lock is removed on the next run.

import { stopsGracefully } from '../../rclone/caps.js';
import type { RcloneCapabilities } from '../../config/types.js';

/** ≥ 1.66: one SIGTERM, then this long for the graceful shutdown (30 s grace + 60 s wrap-up + margin) before SIGKILL. */
export const STOP_GRACE_MS = 95_000;

export type StopPolicy =
  /** One SIGTERM, then SIGKILL only if rclone is still running after `killAfterMs`. */
  | { signal: 'SIGTERM'; killAfterMs: number; logLine: string }
  /** SIGKILL at once. */
  | { signal: 'SIGKILL'; logLine: string };

/** The stop for this rclone: `graceMs` is how long a graceful shutdown may take (STOP_GRACE_MS but in tests). */
export function stopPolicyFor(caps: Pick<RcloneCapabilities, 'version'>, graceMs: number = STOP_GRACE_MS): StopPolicy {
  if (stopsGracefully(caps)) return { signal: 'SIGTERM', killAfterMs: graceMs, logLine: 'stopping rclone gracefully (SIGTERM)' };
  return { signal: 'SIGKILL', logLine: 'stopping rclone (SIGKILL: on rclone < 1.66 a signal would force a resync)' };
}

/**
 * The reason the scheduler aborts a run with when its run conditions stop it (a window that ended, a metered
 * connection): the runner reads it from the AbortSignal, so the record says why and that it runs again by itself.
 * Any other abort (rbmctl cancel, a shutdown) has no such reason.
 */
export interface ConditionsStop {
  readonly kind: 'run-conditions';
  /** What ended them: "its time window ended", "metered connection". */
  readonly why: string;
}

export function conditionsStop(why: string): ConditionsStop {
  return Object.freeze({ kind: 'run-conditions', why });
}

/** The condition a run was stopped for, from its AbortSignal's reason; undefined for a stop by a person or a shutdown. */
export function conditionsStopOf(reason: unknown): string | undefined {
  if (typeof reason !== 'object' || reason === null) return undefined;
  const stop = reason as Partial<ConditionsStop>;
  return stop.kind === 'run-conditions' && typeof stop.why === 'string' ? stop.why : undefined;
}
