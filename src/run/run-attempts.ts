// Phase 2 of a run: the rclone attempts. Seed a new pair, guard a resync, run bisync (journaled), then what the
// attempt asks for (rules/follow-up.ts: a stale lock removed once, one automatic resync); a safety abort previews
// its deletes and, when approved, runs once with --force; a good run may be followed by one more bisync.

import { hasFlag, buildRunArgv } from '../rclone/args.js';
import { CHECKSUM_COMPARE, NO_COMPARE, planCompare, type ComparePlan } from '../rclone/compare.js';
import { loadPendingDeletes, savePendingDeletes } from '../state/pending-deletes.js';
import { approvalToken, pendingApprovalOf } from '../state/approval-token.js';
import { listingHashes } from './compare-mode.js';
import { executeRclone, listPendingDeletes, type Attempt } from './rclone-attempt.js';
import { removeStaleRcloneLocks } from './rclone-lock.js';
import { createResyncGuard, type ResyncGuardResult } from './resync-guard.js';
import type { RcloneContext, RunInput, RunnerCore } from './run-context.js';
import { rcloneContextFor, type PreparedRun } from './run-prepare.js';
import { approvedNote, judgeApprovedRun, statePendingList, type ApprovalVerdict, type PendingApproval, type PendingOverwrite } from './rules/approval.js';
import { classifyRun, type Classification } from './rules/classify.js';
import { afterGoodRun, nextAttempt } from './rules/follow-up.js';
import { resyncPlan, type RunPlan } from './rules/plan.js';
import { isOkOutcome } from '../api/outcomes.js';
import { withKeptVersions, type KeptVersion } from './rules/resync-guard.js';
import { classifySetupFailure } from './rules/setup-failure.js';
import { conditionsStopOf } from './rules/stop-policy.js';
import { seedPair } from './seed.js';
import { backupListings, restoreListings } from './side-check.js';
import type { Operation } from './types.js';

/** What the attempts ended with, for the record. */
export interface Attempted {
  plan: RunPlan;
  attempt: Attempt;
  c: Classification;
  /** rclone's output over every attempt (the record keeps the end). */
  tail: string[];
  /** The outcome is a good one (success, no changes, conflicts). */
  ok: boolean;
  /** What a safety abort waits on (the state's beginning of the lists), and the full list with its token. */
  pendingDeletes: string[];
  pendingOverwrites: PendingOverwrite[];
  approval: PendingApproval | undefined;
}

/** The attempt loop's own state: passed explicitly between its steps. */
interface Loop {
  plan: RunPlan;
  ctx: RcloneContext;
  argv: string[];
  compare: ComparePlan;
  tail: string[];
  kept: KeptVersion[];
  retriedLock: boolean;
  autoResynced: boolean;
  /** 1.60 with check_access: the listings were copied before the attempt (restored after a failed check). */
  keepListings: boolean;
}

/** One bisync attempt, its copies journaled when the run keeps a journal. */
function journaled(core: RunnerCore, prepared: PreparedRun, argv: readonly string[], operation: Operation, ctx: RcloneContext): Promise<Attempt> {
  const journal = prepared.runJournal;
  const onMessage = ctx.hooks.onRcloneMessage;
  return journal ? journal.attempt(operation, (onCopyBatch) => executeRclone(core, argv, { ...ctx, onCopyBatch }, onMessage)) : executeRclone(core, argv, ctx, onMessage);
}

function argvFor(run: RunInput, prepared: PreparedRun, plan: Pick<RunPlan, 'operation' | 'resyncMode'>, compare: ComparePlan['compare'], flags: { dryRun: boolean; force: boolean }): string[] {
  const { job, global, paths } = run;
  return buildRunArgv({ job, global, caps: prepared.caps, operation: plan.operation, workdir: paths.workdir, filtersFile: prepared.filtersFile, resyncMode: plan.resyncMode, ...flags, compare });
}

function classify(run: RunInput, plan: RunPlan, attempt: Attempt, dryRun: boolean): Classification {
  return classifyRun(attempt.exit, attempt.summary, { operation: plan.operation, dryRun, cancelled: attempt.cancelled, stoppedFor: conditionsStopOf(run.hooks.signal?.reason), paths: { local: run.job.local, remote: run.job.path2 } });
}

/** 1.60 renames its listings -err on a failed check-access test (a lockout): the copy taken before the run goes back. */
function restoreAfterFailedCheck(run: RunInput, loop: Loop, attempt: Attempt): void {
  // rclone runs that test before it changes anything, so the copy is still the pair's trusted state.
  if (loop.keepListings && attempt.summary.checkAccessFailed) restoreListings(run.paths.workdir, run.paths.listingsBackup, run.log);
}

function guardResync(core: RunnerCore, run: RunInput, argv: readonly string[], dryRun: boolean, ctx: RcloneContext): Promise<ResyncGuardResult> {
  const guard = createResyncGuard({ spawner: ctx.spawner, logger: ctx.log, env: ctx.env, spawnOptions: core.priorityOptions(ctx.global, ctx.log) });
  return guard.guard({ job: run.job, global: ctx.global, caps: ctx.caps, resyncArgv: argv, dryRun, nowMs: core.clock.now(), scratchDir: run.paths.dir, signal: ctx.hooks.signal });
}

/** A path change is a new share: it gets the same preparation as one (docs/engine.md, "Which run comes next"). */
async function seedIfNew(core: RunnerCore, run: RunInput, prepared: PreparedRun, plan: RunPlan): Promise<{ attempt: Attempt; c: Classification } | undefined> {
  if (plan.operation !== 'resync' || plan.dryRun || (prepared.state.resyncDone && plan.reason !== 'pair-changed')) return undefined;
  const { global, log } = run;
  const seeded = await seedPair(run.job, global, { spawner: prepared.runSpawner, logger: log, rclone: global.rcloneBinary, env: prepared.baseCtx.env, spawnOptions: core.priorityOptions(global, log) });
  if (!seeded.failure) return undefined;
  // A failed setup step fails the run with its own error; the resync would only abort on the same cause.
  const { command, exit, summary } = seeded.failure;
  return { attempt: { exit, summary, cancelled: false }, c: classifySetupFailure(command, exit, summary, plan.operation) };
}

/** The run's --compare; rclone's listings (two files of ~100 bytes per synced file) are read only when checksums are compared. */
function comparePlan(prepared: PreparedRun, operation: Operation, workdir: string, dryRun: boolean): ComparePlan {
  return planCompare(prepared.checksums, operation, prepared.checksums.ok ? listingHashes(workdir) : 'none', dryRun);
}

/** One pass of the loop: seed, guard, bisync; the attempt and its classification. */
async function attemptOnce(core: RunnerCore, run: RunInput, prepared: PreparedRun, loop: Loop): Promise<{ attempt: Attempt; c: Classification; stop: boolean }> {
  const { plan } = loop;
  const failedSeed = await seedIfNew(core, run, prepared, plan);
  if (failedSeed) {
    loop.tail.push(...failedSeed.attempt.summary.tail);
    return { ...failedSeed, stop: true };
  }
  const { paths, log, job } = run;
  removeStaleRcloneLocks(paths.workdir, log);
  loop.keepListings = job.checkAccess && plan.operation === 'bisync' && !plan.dryRun && !hasFlag(prepared.caps, 'resilient');
  if (loop.keepListings) backupListings(paths.workdir, paths.listingsBackup);
  loop.compare = comparePlan(prepared, plan.operation, paths.workdir, plan.dryRun);
  loop.argv = argvFor(run, prepared, plan, loop.compare.compare, { dryRun: plan.dryRun, force: plan.force });
  run.hooks.onStarted?.(run.runId, plan.operation, prepared.caps);
  loop.ctx = rcloneContextFor(prepared.baseCtx, job, plan.operation);
  const roots = { path1: job.local, path2: job.path2 };
  if (plan.operation === 'resync') {
    // No resync may drop a version: the guard keeps every losing version first (src/run/resync-guard.ts).
    const guarded = await guardResync(core, run, loop.argv, plan.dryRun, loop.ctx);
    loop.kept.push(...guarded.kept);
    if (!guarded.ok && !plan.dryRun) {
      const stopped = withKeptVersions(guarded.stop.classification, guarded.stop.summary, loop.kept, roots, false);
      const attempt = { ...guarded.stop, summary: stopped.summary };
      loop.tail.push(...attempt.summary.tail);
      return { attempt, c: stopped.classification, stop: true };
    }
  }
  const ran = await journaled(core, prepared, loop.argv, plan.operation, loop.ctx);
  loop.tail.push(...ran.summary.tail);
  const kept = withKeptVersions(classify(run, plan, ran, plan.dryRun), ran.summary, loop.kept, roots, plan.dryRun);
  const attempt = { ...ran, summary: kept.summary };
  log.debug('rclone finished', { code: attempt.exit.code, signal: attempt.exit.signal, outcome: kept.classification.outcome });
  restoreAfterFailedCheck(run, loop, attempt);
  return { attempt, c: kept.classification, stop: false };
}

/** Whether the loop goes round again (rules/follow-up.ts); updates the plan for an automatic resync. */
function goAgain(run: RunInput, prepared: PreparedRun, loop: Loop, attempt: Attempt, c: Classification): boolean {
  const next = nextAttempt(c, { plan: loop.plan, cancelled: attempt.cancelled, retriedLock: loop.retriedLock, autoResynced: loop.autoResynced, autoResync: run.job.autoResync, wasInterrupted: prepared.wasInterrupted, hasResyncMode: hasFlag(prepared.caps, 'resync-mode') });
  if (next.kind === 'remove-stale-lock') {
    loop.retriedLock = true;
    const removed = removeStaleRcloneLocks(run.paths.workdir, run.log, attempt.summary.lockFile);
    if (removed.removed.length === 0) return false;
    prepared.notes.push('removed a stale rclone lock');
    return true;
  }
  if (next.kind !== 'auto-resync') return false;
  loop.autoResynced = true;
  loop.plan = resyncPlan(next.reason, prepared.caps, false, true);
  run.log.warn(`resyncing automatically: ${loop.plan.why}`, { error: c.errorText });
  prepared.notes.push(`automatic resync (${loop.plan.why})`);
  return true;
}

/**
 * A safety abort: the deletes and overwrites it would make, previewed; an approval whose list covers every one of
 * them runs once with --force, else the list is saved and the job waits for the user (run/rules/approval.ts).
 */
async function settleSafetyAbort(core: RunnerCore, run: RunInput, prepared: PreparedRun, loop: Loop, last: { attempt: Attempt; c: Classification }): Promise<{ attempt: Attempt; c: Classification; approval: PendingApproval | undefined }> {
  const { job, log, request, hooks } = run;
  const { plan } = loop;
  let { attempt, c } = last;
  const preview = await listPendingDeletes(core, loop.argv, job, attempt.summary, loop.ctx);
  if (request.approvalToken !== undefined && !plan.force) {
    const verdict: ApprovalVerdict = preview.complete
      ? judgeApprovedRun(job.name, request.approvalToken, loadPendingDeletes(core.stateDir, job.name, log), preview.deletes, approvalToken, preview.overwrites)
      : { kind: 'park', reason: 'changed', added: [], addedOverwrites: [], message: 'the preview of the approved run did not complete or did not list its deletes and overwrites; nothing was deleted or overwritten' };
    if (verdict.kind === 'proceed' && !hooks.signal?.aborted) {
      // Kept as short as possible: the window between this preview and the forced run (docs/decisions.md).
      log.info('approved: every delete and overwrite of this run is in the approved list; running with --force', { deletes: preview.deletes.length, overwrites: preview.overwrites.length });
      loop.argv = argvFor(run, prepared, plan, loop.compare.compare, { dryRun: false, force: true });
      attempt = await journaled(core, prepared, loop.argv, plan.operation, loop.ctx);
      loop.tail.push(...attempt.summary.tail);
      c = classify(run, plan, attempt, false);
      restoreAfterFailedCheck(run, loop, attempt);
      prepared.notes.push(approvedNote(preview.deletes.length, preview.overwrites.length));
    } else if (verdict.kind === 'park') {
      log.warn(`approval not applied: ${verdict.message}`, { added: verdict.added.length, addedOverwrites: verdict.addedOverwrites.length });
      prepared.notes.push(verdict.message);
    }
  }
  if (c.followUp !== 'pending-deletes' || attempt.cancelled) return { attempt, c, approval: undefined };
  const approval = pendingApprovalOf(job.name, preview.deletes, preview.overwrites);
  await core.durability.flush(savePendingDeletes(core.stateDir, job.name, approval));
  log.warn('safety abort: waiting for approval', { pendingDeletes: approval.deletes.length, pendingOverwrites: approval.overwrites?.length ?? 0, token: approval.token });
  return { attempt, c, approval };
}

/** After a good run: the bisync that writes --recover's backup after a resync, or the switch-over to checksums. */
async function followGoodRun(core: RunnerCore, run: RunInput, prepared: PreparedRun, loop: Loop, ok: boolean): Promise<void> {
  const { log, paths } = run;
  const then = afterGoodRun({ plan: loop.plan, ok, aborted: run.hooks.signal?.aborted === true, hasRecover: hasFlag(prepared.caps, 'recover'), settle: loop.compare.settle });
  const bisync = { operation: 'bisync' as const, resyncMode: undefined };
  if (then.backupBisync) {
    const followCompare = comparePlan(prepared, 'bisync', paths.workdir, false).compare;
    const follow = await journaled(core, prepared, argvFor(run, prepared, bisync, followCompare, { dryRun: false, force: false }), 'bisync', rcloneContextFor(prepared.baseCtx, run.job, 'bisync'));
    if (follow.exit.code !== 0) log.warn('the bisync after the resync did not succeed; the next run retries', { code: follow.exit.code, error: follow.summary.failure || follow.summary.errors[0] });
  }
  if (then.checksumSettle) {
    // The sides were just brought level without checksums; this run finds nothing to do and so writes every listing
    // line afresh, with hashes. If something changed meanwhile, the next run tries again.
    const settle = await journaled(core, prepared, argvFor(run, prepared, bisync, CHECKSUM_COMPARE, { dryRun: false, force: false }), 'bisync', rcloneContextFor(prepared.baseCtx, run.job, 'bisync'));
    const hashed = settle.exit.code === 0 && listingHashes(paths.workdir) === 'hashed';
    if (hashed) prepared.notes.push('from now on checksums are compared too');
    else log.warn('the listings do not carry checksums yet; the next run tries again', { code: settle.exit.code, error: settle.summary.failure || settle.summary.errors[0] });
  }
}

/** The attempts of a prepared run, to the classification its record is made from. */
export async function attemptRun(core: RunnerCore, run: RunInput, prepared: PreparedRun): Promise<Attempted> {
  const loop: Loop = { plan: prepared.plan, ctx: prepared.baseCtx, argv: [], compare: NO_COMPARE, tail: [], kept: [], retriedLock: false, autoResynced: false, keepListings: false };
  let last = await attemptOnce(core, run, prepared, loop);
  while (!last.stop && goAgain(run, prepared, loop, last.attempt, last.c)) last = await attemptOnce(core, run, prepared, loop);
  let { attempt, c } = last;
  let approval: PendingApproval | undefined;
  if (c.followUp === 'pending-deletes' && !loop.plan.dryRun && !attempt.cancelled) ({ attempt, c, approval } = await settleSafetyAbort(core, run, prepared, loop, last));
  // A dry run is ok too, but it changed nothing: only a real run's result counts here.
  const ok = isOkOutcome(c.outcome) && c.outcome !== 'dry-run';
  await followGoodRun(core, run, prepared, loop, ok);
  return { plan: loop.plan, attempt, c, tail: loop.tail, ok, pendingDeletes: approval ? statePendingList(approval.deletes) : [], pendingOverwrites: statePendingList(approval?.overwrites ?? []), approval };
}
