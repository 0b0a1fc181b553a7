// Decides what a finished rclone run means from its exit status AND its log lines (exit 7 is ambiguous:
// the same code covers "retryable" and "must resync", so the text decides). Pure.

import type { ExitStatus } from '../../ports.js';
import type { OutputSummary } from '../../rclone/output.js';
import { describePermanentFailure } from '../../rclone/permanent-errors.js';
import type { Operation, Outcome } from '../types.js';

/** A run its conditions stopped (a window's end, a metered connection) is not lost: its trigger waits for them. */
export const CONDITIONS_STOP_HINT = 'It runs again by itself when its run conditions are met (rbmctl status JOB shows what it waits for), or now with rbmctl sync JOB.';

export const HASH_WARNING_HINT =
  'rclone compared checksums against listings without hashes. Keep compare flags identical on every run and run rbmctl sync JOB --resync after changing them.';

/** What the engine does next, before the run is final. */
export type FollowUp =
  | 'none'
  /** Another rclone's lock was found: if its PID is dead, remove it and run again once. */
  | 'stale-lock'
  /** Safety abort: run the same argv with --dry-run to record what would be deleted. */
  | 'pending-deletes'
  /** Changed filters: resync automatically and log why (the old tool did). */
  | 'auto-resync'
  /** Lockout that --recover could not heal: resync when the job allows it, else needs-resync. */
  | 'lockout';

export interface ClassifyContext {
  operation: Operation;
  dryRun: boolean;
  /** The run was stopped on purpose (AbortSignal). */
  cancelled: boolean;
  /** It was stopped for its run conditions: what ended them ("its time window ended"; stop-policy.ts conditionsStopOf). */
  stoppedFor?: string | undefined;
  /** The pair's roots, to name the side that ran out of space (optional: tests of other cases omit it). */
  paths?: { local: string; remote: string };
}

export interface Classification {
  outcome: Outcome;
  /** One line for humans: what happened. */
  message: string;
  /** What to do next ('' when nothing). */
  hint: string;
  /** The failure is transient and nothing changed: retry with backoff. */
  retryable: boolean;
  followUp: FollowUp;
  /** Why an automatic resync is due (for logs), '' otherwise. */
  autoResyncReason: '' | 'filters-changed';
  /** Enough to set needs-resync if no follow-up heals it. */
  lockout: boolean;
  /** Hash-unexpectedly-blank warnings were printed. */
  hashWarning: boolean;
  /** Short error text for the record ('' on success). */
  errorText: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function base(outcome: Outcome, message: string, hint: string, errorText = ''): Classification {
  return {
    outcome,
    message,
    hint,
    retryable: false,
    followUp: 'none',
    autoResyncReason: '',
    lockout: false,
    hashWarning: false,
    errorText,
  };
}

/** A write failed for lack of space: name the side and its path. Not a lockout: the engine puts the listings back. */
function noSpace(n: NonNullable<OutputSummary['noSpace']>, ctx: ClassifyContext): Classification {
  const side = n.side === 'Path2' ? 'REMOTE' : n.side === 'Path1' ? 'LOCAL' : ctx.paths && n.text.includes(ctx.paths.remote) ? 'REMOTE' : 'LOCAL';
  const path = ctx.paths ? (side === 'LOCAL' ? ctx.paths.local : ctx.paths.remote) : '';
  const where = `${side}${path ? ` (${path})` : ''}`;
  return base('failed', `no space left on ${where}; what the ${ctx.operation} had half-written was removed`, `Free space on ${where}, then run rbmctl sync JOB (or wait for the next scheduled run).`, `no space left on ${where}: ${n.text}`);
}

function classifyCore(exit: ExitStatus, s: OutputSummary, ctx: ClassifyContext): Classification {
  const code = exit.code;
  const firstError = s.failure || s.criticalError || s.errors[0] || '';

  const forConditions = ctx.stoppedFor === undefined ? '' : ` for its run conditions (${ctx.stoppedFor})`;
  if (ctx.cancelled && s.success) {
    // rclone finished the run before the stop took effect (1.75 graceful shutdown): record what it achieved.
    const done = classifyCore(exit.code === 0 ? exit : { code: 0, signal: null }, s, { ...ctx, cancelled: false, stoppedFor: undefined });
    done.message += ` (a stop was requested${forConditions}: rclone wrapped up cleanly; whatever it had not started syncs on the next run)`;
    return done;
  }
  if (ctx.cancelled) {
    // Still `cancelled` (a graceful stop: no failure, no retry, no alert), but the words say what stopped it and when it runs again.
    const c =
      ctx.stoppedFor === undefined
        ? base('cancelled', `the ${ctx.operation} was stopped before it finished`, 'It runs again on its next schedule, or now with rbmctl sync JOB.', 'cancelled')
        : base('cancelled', `the ${ctx.operation} was stopped${forConditions} before it finished`, CONDITIONS_STOP_HINT, `stopped for its run conditions (${ctx.stoppedFor})`);
    // A signalled 1.60 (or an unlucky 1.75) may leave the pair locked out; the next run's --recover or lockout path handles it.
    c.lockout = s.mustResync && !s.gracefulShutdown;
    return c;
  }
  if (code === 127) {
    return base('failed', 'rclone could not be started', 'Check that rclone is installed and rclone_binary points to it.', firstError || 'rclone not found');
  }
  if (s.noSpace !== undefined && !s.success) return noSpace(s.noSpace, ctx);
  if (s.unknownFlag !== '') {
    return base('failed', `rclone rejected the option ${s.unknownFlag}`, 'This rclone does not know that flag: remove it from the job options, or upgrade rclone (1.66 or later is recommended).', `unknown flag: ${s.unknownFlag}`);
  }
  if (s.lockFile !== undefined) {
    const c = base('locked', 'another rclone run holds the lock for this pair', `If no other rclone is syncing these folders, delete ${s.lockFile} and run rbmctl sync JOB again.`, `prior lock file found: ${s.lockFile}`);
    c.followUp = 'stale-lock';
    return c;
  }
  if (s.safetyAbort !== undefined) {
    const what = s.safetyAbort === 'too-many-deletes' ? 'too many deletes' : 'all files were changed';
    // All files changed: the forced run's harm is mostly overwrites (a shifted clock), so the words name them.
    const changed = s.safetyAbort === 'all-files-changed';
    const nothing = changed ? 'nothing was deleted or overwritten' : 'nothing was deleted';
    const hint = changed
      ? 'Review the pending overwrites and deletes and approve exactly that list with: rbmctl approve JOB (each scheduled run checks again, and syncs normally once the changes are within the limits).'
      : 'Review the pending deletes and approve exactly that list with: rbmctl approve JOB (each scheduled run checks again, and syncs normally once the deletes are gone).';
    const c = base('needs-approval', `safety abort (${what}): ${nothing}${s.safetyAbortText ? ` — ${s.safetyAbortText.replace(/ Run with --force if desired\.$/, '')}` : ''}`, hint, `safety abort: ${what}`);
    c.followUp = 'pending-deletes';
    return c;
  }
  // Checked before "unreachable": a refused login also says "couldn't connect", and retrying it never helps.
  const permanent = code !== 0 ? describePermanentFailure(s.permanentErrors, s.stats?.transfers ?? 0, s.mustResync) : undefined;
  if (permanent) return base('failed', permanent.message, permanent.hint, permanent.errorText);
  if (s.remoteUnreachable !== '' && !s.success) {
    const copied = s.stats?.transfers ?? 0;
    // Lost mid-run, the files copied before stay copied: say so rather than "nothing was changed".
    const what = copied > 0 ? `the remote was lost during the run, after ${plural(copied, 'file')} had been copied` : 'the remote could not be reached; nothing was changed';
    const c = base('retryable', what, 'It is retried automatically with backoff. Check the network and the remote.', s.remoteUnreachable);
    c.retryable = true;
    return c;
  }
  if (s.checkAccessFailed) {
    // The guard doing its job (a drive inside the tree is missing?): never a resync, which would fill the gap with
    // copies; rclone changed nothing. The job waits and runs normally once the check files match again.
    return base('check-failed', 'the check-access test failed: the RCLONE_TEST files differ between the sides; nothing was changed', 'Is a drive inside the job unmounted? Mount it or put the check files back: the job syncs again by itself at its next run.', 'check-access failed');
  }
  if (s.filtersChanged && ctx.operation === 'bisync') {
    const c = base('needs-resync', 'the filters file changed since the last resync', 'Run rbmctl sync JOB --resync to apply the new filters.', 'filters file changed');
    c.followUp = 'auto-resync';
    c.autoResyncReason = 'filters-changed';
    c.lockout = true;
    return c;
  }
  const lockedOut = s.missingListings || s.mustResync || (s.emptyListing && !s.retryableWithoutResync);
  // A failed resync is not a lockout: the state still asks for a resync, so the next run simply repeats it.
  if (lockedOut && ctx.operation === 'bisync') {
    const why = s.missingListings ? 'no trusted listings were found' : s.emptyListing ? 'one side is empty' : 'rclone requires a resync';
    const c = base('needs-resync', `bisync is locked out: ${why}`, 'Check both sides, then run rbmctl sync JOB --resync (or set auto_resync: true on the job).', firstError || 'must run --resync');
    c.followUp = 'lockout';
    c.lockout = true;
    return c;
  }
  if (s.retryableWithoutResync || code === 5 || code === 3) {
    const c = base('retryable', `the ${ctx.operation} failed with a transient error; it is retried automatically`, s.emptyListing ? 'One side looks empty or missing (an unmounted drive?). Check it; the job retries with backoff.' : 'It is retried automatically with backoff.', firstError || `exit ${code ?? exit.signal ?? ''}`);
    c.retryable = true;
    return c;
  }
  if (code === null) {
    const c = base('retryable', `rclone was killed by ${exit.signal ?? 'a signal'}`, 'It is retried automatically; the next run recovers the listings (--recover) and removes the stale lock.', `killed by ${exit.signal ?? 'signal'}`);
    c.retryable = true;
    return c;
  }
  if (code === 0 || code === 9) {
    if (ctx.dryRun) return base('dry-run', `dry run of the ${ctx.operation}: nothing was changed`, '');
    const st = s.stats;
    if (s.conflicts.length > 0) {
      return base('conflicts', `synced with ${plural(s.conflicts.length, 'conflict')}: ${s.conflicts.slice(0, 3).map((c) => c.path).join(', ')}${s.conflicts.length > 3 ? ', …' : ''}`, 'Both versions were kept: review the conflict copies listed in the run record.');
    }
    const changed = st ? st.transfers + st.deletes + st.renames : 0;
    if (changed === 0) return base('no-changes', ctx.operation === 'resync' ? 'resync complete: the sides were already identical' : 'nothing to transfer', '');
    const parts = st ? [plural(st.transfers, 'file') + ' copied', plural(st.deletes, 'file') + ' deleted'] : [];
    return base('success', `${ctx.operation === 'resync' ? 'resync' : 'sync'} complete: ${parts.join(', ')}`, '');
  }
  return base('failed', `rclone failed (exit ${code})${firstError ? `: ${firstError}` : ''}`, "rclone's last lines are in rbmctl history JOB --json; fix the cause and run rbmctl sync JOB.", firstError || `exit ${code}`);
}

export function classifyRun(exit: ExitStatus, summary: OutputSummary, ctx: ClassifyContext): Classification {
  const c = classifyCore(exit, summary, ctx);
  if (summary.hashBlank > 0) {
    c.hashWarning = true;
    c.hint = c.hint === '' ? HASH_WARNING_HINT : `${c.hint} ${HASH_WARNING_HINT}`;
  }
  return c;
}
