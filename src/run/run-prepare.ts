// Phase 1 of a run: everything before the first bisync attempt. The rclone binary's capabilities, the job's state
// (rebuilt when lost), the plan (or a refusal), the side check, "a run is in progress" on disk, what an interrupted
// run left behind, and whether checksums can be compared. A run that ends here is recorded here.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { buildRunEnv, filtersFileOf, hasFlag, optionMapsFor, rcloneOnlyEnv, rcloneOnlyFlags, unsupportedSettings } from '../rclone/args.js';
import type { ChecksumSupport } from '../rclone/compare.js';
import { errorText, isRbmError } from '../errors.js';
import type { Logger, Spawner } from '../ports.js';
import { ensurePrivateDir } from '../state/paths.js';
import { checksumSupportFor } from './compare-mode.js';
import { earlyRecord, logRunEnd, saveStateNow } from './run-finish.js';
import type { RcloneContext, RunInput, RunnerCore } from './run-context.js';
import { openRunJournal, type RunJournal } from './run-journal.js';
import { applyRunResult, planNextRun, recordedPairKey, type RunPlan } from './rules/plan.js';
import { checkSides, sideCheckApplies } from './side-check.js';
import { describeSideCheck } from './rules/side-check.js';
import { journalPath } from './transfer-journal.js';
import type { JobState, Operation, Outcome, RunRecord } from './types.js';

/** A run ready for its attempts. */
export interface PreparedRun {
  caps: RcloneCapabilities;
  state: JobState;
  plan: RunPlan;
  filtersFile: string | undefined;
  filtersHash: string;
  pairKey: string;
  /** The previous run was interrupted (the state now says a run is in progress either way). */
  wasInterrupted: boolean;
  /** What the record's message starts with (automatic resyncs, a removed lock, an approval). */
  notes: string[];
  /** The spawner of this run's rclone: its first spawn makes "a run is in progress" durable. */
  runSpawner: Spawner;
  /** What rclone runs with, before the secret options of an operation (rcloneContextFor). */
  baseCtx: RcloneContext;
  runJournal: RunJournal | undefined;
  checksums: ChecksumSupport;
}

export type Prepared = { kind: 'ready'; run: PreparedRun } | { kind: 'finished'; record: RunRecord };

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of the filters file ('' without one; a marker when unreadable, so a later fix counts as a change). */
export function filtersFileHash(path: string | undefined): string {
  if (path === undefined) return '';
  try {
    return sha256(readFileSync(path));
  } catch {
    return 'unreadable';
  }
}

export function pairKeyOf(job: JobConfig, workdir: string): string {
  return sha256(`${job.local}\u0000${job.path2}\u0000${workdir}`);
}

function hasListings(workdir: string): boolean {
  try {
    const names = readdirSync(workdir);
    return names.some((n) => n.endsWith('.path1.lst')) && names.some((n) => n.endsWith('.path2.lst'));
  } catch {
    return false;
  }
}

/** The user's options ask rclone to write copies in place (`--inplace`): a cut copy can then sit under its real name. */
function wantsInplace(job: JobConfig, global: GlobalSettings): boolean {
  return optionMapsFor({ job, global, operation: 'bisync' }).some((map) => Object.entries(map).some(([key, value]) => key.replace(/_/g, '-') === 'inplace' && value !== false));
}

/** `spawner`, calling `fn` once right after its first spawn. */
function afterFirstSpawn(spawner: Spawner, fn: () => void): Spawner {
  let done = false;
  return {
    spawn(command, args, options) {
      const child = spawner.spawn(command, args, options);
      if (!done) {
        done = true;
        fn();
      }
      return child;
    },
  };
}

function rcloneEnv(base: Readonly<Record<string, string | undefined>>, caps: RcloneCapabilities): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  // 1.60 binds RCLONE_COLOR to an unrelated flag and exits 1.
  if (!hasFlag(caps, 'color')) delete env.RCLONE_COLOR;
  return env;
}

/** Secret options reach rclone through its environment, never its argv (/proc/PID/cmdline is world-readable). */
export function rcloneContextFor(baseCtx: RcloneContext, job: JobConfig, operation: Operation): RcloneContext {
  const secretEnv = buildRunEnv({ job, global: baseCtx.global, operation });
  return { ...baseCtx, env: { ...baseCtx.env, ...secretEnv }, secretEnv: new Set(Object.keys(secretEnv)) };
}

async function probeCaps(core: RunnerCore, run: RunInput): Promise<RcloneCapabilities | RunRecord> {
  try {
    return await core.probeCaps(run.global.rcloneBinary);
  } catch (e: unknown) {
    const record = earlyRecord(core, run, 'failed', `rclone could not be used: ${errorText(e)}`, isRbmError(e) && e.hint ? e.hint : 'Check that rclone is installed and rclone_binary points to it.', errorText(e));
    core.history.append(record);
    return record;
  }
}

function warnAboutSettings(core: RunnerCore, run: RunInput, caps: RcloneCapabilities): void {
  if (run.global.maxCpuUsagePercent < 100 && core.cpulimitPath === undefined) run.log.warn('cpulimit is not installed: max_cpu_usage_percent is not applied');
  for (const setting of unsupportedSettings(run.job, caps)) run.log.warn(`rclone ${caps.version} cannot honour ${setting}; it is ignored (needs rclone 1.66 or later)`);
}

/** The job's state; a state file rebuilt from nothing trusts rclone's listings when they survived. */
function loadState(core: RunnerCore, run: RunInput, facts: { filtersHash: string; pairKey: string }): JobState {
  const loaded = core.store.load(run.job.name);
  if (loaded.status !== 'rebuilt' || !hasListings(run.paths.workdir)) return loaded.state;
  // rclone's own listings survived: trust them (bisync with --recover) rather than forcing a resync.
  run.log.warn('job state was rebuilt; rclone listings exist, so the next run is a normal bisync with --recover');
  return { ...loaded.state, resyncDone: true, pairKey: recordedPairKey(facts.pairKey, run.job), filtersHash: facts.filtersHash, interrupted: true };
}

/** The plan, or the record of a refused run (needs a resync or an approval first). */
function planOrRefuse(core: RunnerCore, run: RunInput, state: JobState, facts: { caps: RcloneCapabilities; filtersHash: string; pairKey: string }): RunPlan | RunRecord {
  const planned = planNextRun(run.job, run.global, state, run.request, { ...facts, nowMs: run.startedMs });
  if (!('refuse' in planned)) return planned;
  const e = planned.refuse;
  const outcome: Outcome = e.code === 'NeedsResync' ? 'needs-resync' : 'needs-approval';
  const record = earlyRecord(core, run, outcome, e.message, e.hint ?? '', e.message);
  logRunEnd(run.log, record, state.consecutiveFailures);
  core.history.append(record);
  return record;
}

/** A missing drive is a check that waits: rclone never runs on it (no deletes, no resync, no 1.60 lockout). */
async function sideCheckOrRecord(core: RunnerCore, run: RunInput, state: JobState, plan: RunPlan, helperEnv: Record<string, string | undefined>): Promise<RunRecord | undefined> {
  if (!sideCheckApplies(plan)) return undefined;
  const { job, global, log } = run;
  const failure = await checkSides(job, global, run.paths.workdir, state.localMounts, { spawner: core.spawner, logger: log, env: helperEnv, spawnOptions: core.priorityOptions(global, log), readMountInfo: core.readMountInfo, signal: run.hooks.signal });
  if (!failure) return undefined;
  const words = describeSideCheck(failure, job.name);
  const record = earlyRecord(core, run, 'check-failed', words.message, words.hint, words.errorText, plan.operation);
  logRunEnd(log, record, state.consecutiveFailures);
  if (!record.dryRun) {
    const waiting = applyRunResult(state, record, { lockout: false, pendingDeletes: [], filtersHash: state.filtersHash, pairKey: state.pairKey, sideCheck: failure });
    // rclone did not run: an interrupted earlier run still needs its recovery when the drive is back.
    await saveStateNow(core, job.name, { ...waiting, interrupted: state.interrupted });
  }
  core.history.append(record);
  return record;
}

/**
 * "A run is in progress" must be on disk before rclone starts, so that a killed service is detected at the next
 * start. Atomic but not fsynced here (no fsync between a trigger and the spawn): the page cache survives a killed
 * process, and the fsync runs on the thread pool once rclone has started (docs/engine.md: power loss).
 */
function markInProgress(core: RunnerCore, run: RunInput, state: JobState, plan: RunPlan): { state: JobState; runSpawner: Spawner } {
  if (plan.dryRun) return { state, runSpawner: core.spawner };
  const inProgress = { ...state, interrupted: true };
  core.store.save(run.job.name, inProgress, { durable: false });
  return { state: inProgress, runSpawner: afterFirstSpawn(core.spawner, () => void core.store.flush(run.job.name)) };
}

/** Repair what an earlier run left before rclone runs; journal the copies of this one (src/run/run-journal.ts). */
function openJournal(core: RunnerCore, run: RunInput, caps: RcloneCapabilities, plan: RunPlan, helperEnv: Record<string, string | undefined>): RunJournal | undefined {
  if (plan.dryRun) return undefined;
  const { job, global, log, paths } = run;
  return openRunJournal({ job, caps, workdir: paths.workdir, journalFile: journalPath(paths.dir), runId: run.runId, trigger: run.request.trigger ?? 'manual', clock: core.clock, log, inplace: wantsInplace(job, global),
    repair: { spawner: core.spawner, rclone: global.rcloneBinary, env: helperEnv, flags: rcloneOnlyFlags(job, global), spawnOptions: core.priorityOptions(global, log), log } });
}

/** The record of a run that could not check what the interrupted run left (nothing synced; retried). */
async function repairFailedRecord(core: RunnerCore, run: RunInput, state: JobState, wasInterrupted: boolean, e: unknown): Promise<RunRecord> {
  // Never sync over what may be half-written: wait and retry (a remote that is down comes back).
  run.log.warn('cannot check what the interrupted run left behind; not syncing yet', { error: errorText(e) });
  const record = earlyRecord(core, run, 'retryable', `could not check what the interrupted run left behind, so nothing was synced: ${errorText(e)}`, 'It is retried automatically with backoff. Check that both sides are reachable.', errorText(e));
  await saveStateNow(core, run.job.name, { ...applyRunResult(state, record, { lockout: false, pendingDeletes: [], filtersHash: state.filtersHash, pairKey: state.pairKey }), interrupted: wasInterrupted });
  core.history.append(record);
  return record;
}

function logStart(log: Logger, caps: RcloneCapabilities, plan: RunPlan, wasInterrupted: boolean, notes: string[]): void {
  if (wasInterrupted) log.warn('the previous run of this job was interrupted; recovering', { recover: hasFlag(caps, 'recover') });
  if (plan.operation === 'resync') log.info(`resync: ${plan.why}`);
  if (plan.operation === 'resync' && plan.reason !== 'requested' && plan.reason !== 'first-run') notes.push(`automatic resync (${plan.why})`);
}

/** Everything before the first attempt; `finished` when the run ends before rclone syncs anything. */
export async function prepareRun(core: RunnerCore, run: RunInput): Promise<Prepared> {
  const { job, global, log, paths } = run;
  const caps = await probeCaps(core, run);
  if ('outcome' in caps) return { kind: 'finished', record: caps };
  warnAboutSettings(core, run, caps);
  core.recordInterruptedLocked(job.name);
  const filtersFile = filtersFileOf(job, global);
  const facts = { caps, filtersHash: filtersFileHash(filtersFile), pairKey: pairKeyOf(job, paths.workdir) };
  let state = loadState(core, run, facts);
  const plan = planOrRefuse(core, run, state, facts);
  if ('outcome' in plan) return { kind: 'finished', record: plan };
  const runEnv = rcloneEnv(core.baseEnv, caps);
  // Helper commands (side check, repair, hash detection) get the job's secret options through the environment too.
  const helperEnv = { ...runEnv, ...rcloneOnlyEnv(job, global) };
  const refused = await sideCheckOrRecord(core, run, state, plan, helperEnv);
  if (refused) return { kind: 'finished', record: refused };
  const notes: string[] = [];
  const wasInterrupted = state.interrupted;
  logStart(log, caps, plan, wasInterrupted, notes);
  const marked = markInProgress(core, run, state, plan);
  state = marked.state;
  ensurePrivateDir(paths.workdir);
  const baseCtx: RcloneContext = { caps, global, log, hooks: run.hooks, env: runEnv, secretEnv: new Set<string>(), spawner: marked.runSpawner };
  const runJournal = openJournal(core, run, caps, plan, helperEnv);
  try {
    await runJournal?.repairLeftovers();
  } catch (e: unknown) {
    return { kind: 'finished', record: await repairFailedRecord(core, run, state, wasInterrupted, e) };
  }
  const checksums = await checksumSupportFor({ spawner: core.spawner, clock: core.clock, stateDir: core.stateDir, readMountInfo: core.readMountInfo }, { job, global, caps, operation: plan.operation, env: helperEnv, log, signal: run.hooks.signal });
  return { kind: 'ready', run: { state, plan, filtersFile, ...facts, wasInterrupted, notes, runSpawner: marked.runSpawner, baseCtx, runJournal, checksums } };
}
