// A job's persisted state: the initial value and validation of what was read back from disk (pure).

import type { LocalMounts, SideCheckFailure } from './side-check.js';
import type { PendingOverwrite } from './approval.js';
import type { JobState, Outcome } from '../types.js';
import { isOkOutcome, isOutcome } from '../../api/outcomes.js';

/** A recorded last outcome: a row of the outcome table, or `never` before the first run. */
const isLastOutcome = (v: string): v is Outcome | 'never' => v === 'never' || isOutcome(v);

/** The last success a state file from before `lastSuccessMs` implies: its last finish, when that run was ok. */
const okFinish = (outcome: Outcome | 'never', finishedMs: number): number => (outcome !== 'never' && isOkOutcome(outcome) ? finishedMs : 0);

/** A job that never ran: its first run is a resync. */
export function initialJobState(): JobState {
  return {
    version: 1,
    resyncDone: false,
    filtersHash: '',
    pairKey: '',
    lastRunId: 0,
    lastStartedMs: 0,
    lastFinishedMs: 0,
    lastOutcome: 'never',
    lastMessage: '',
    lastError: '',
    lastScheduledMs: 0,
    needsResync: false,
    needsApproval: false,
    pendingDeletes: [],
    approvalToken: '',
    pendingDeleteCount: 0,
    pendingOverwrites: [],
    pendingOverwriteCount: 0,
    consecutiveFailures: 0,
    lastSuccessMs: 0,
    trackedSinceMs: 0,
    retryAtMs: 0,
    hashWarning: false,
    interrupted: false,
    sideCheck: null,
    localMounts: null,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -1;

/** A recorded side-check failure; a state file written before the field existed has none (null). */
function parseSideCheck(v: unknown): SideCheckFailure | null | undefined {
  if (v === undefined || v === null) return null;
  if (!isObject(v) || (v.side !== 'local' && v.side !== 'remote') || !isStr(v.path) || !isStrList(v.missing)) return undefined;
  if (!isCount(v.filesLastSeen) || !isCount(v.filesNow) || !isStrList(v.residue)) return undefined;
  return { side: v.side, path: v.path, missing: [...v.missing], filesLastSeen: v.filesLastSeen, filesNow: v.filesNow, residue: [...v.residue] };
}

/** Pending overwrites; older state files have none. */
function parseOverwrites(v: unknown): PendingOverwrite[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return undefined;
  const out: PendingOverwrite[] = [];
  for (const o of v as unknown[]) {
    if (!isObject(o) || (o.to !== 'Path1' && o.to !== 'Path2') || !isStr(o.path)) return undefined;
    out.push({ to: o.to, path: o.path });
  }
  return out;
}

/** Recorded mounts; older state files have none (null: nothing recorded yet, recorded after the next good run). */
function parseLocalMounts(v: unknown): LocalMounts | null | undefined {
  if (v === undefined || v === null) return null;
  if (!isObject(v) || !isStr(v.rootMount) || !isStrList(v.nested)) return undefined;
  return { rootMount: v.rootMount, nested: [...v.nested] };
}

/** The state in `value` when it is a complete, well-typed version-1 state; undefined otherwise. */
export function parseJobState(value: unknown): JobState | undefined {
  if (!isObject(value) || value.version !== 1) return undefined;
  const v = value;
  const ok =
    isBool(v.resyncDone) && isStr(v.filtersHash) && isStr(v.pairKey) && isNum(v.lastRunId) && isNum(v.lastStartedMs) &&
    isNum(v.lastFinishedMs) && isStr(v.lastOutcome) && isLastOutcome(v.lastOutcome) && isStr(v.lastMessage) && isStr(v.lastError) &&
    isNum(v.lastScheduledMs) && isBool(v.needsResync) && isBool(v.needsApproval) && Array.isArray(v.pendingDeletes) &&
    v.pendingDeletes.every(isStr) && isNum(v.consecutiveFailures) && isNum(v.retryAtMs) && isBool(v.hashWarning) && isBool(v.interrupted);
  const sideCheck = parseSideCheck(v.sideCheck);
  const localMounts = parseLocalMounts(v.localMounts);
  const overwrites = parseOverwrites(v.pendingOverwrites);
  if (!ok || sideCheck === undefined || localMounts === undefined || overwrites === undefined) return undefined;
  return {
    version: 1,
    resyncDone: v.resyncDone as boolean,
    filtersHash: v.filtersHash as string,
    pairKey: v.pairKey as string,
    lastRunId: v.lastRunId as number,
    lastStartedMs: v.lastStartedMs as number,
    lastFinishedMs: v.lastFinishedMs as number,
    lastOutcome: v.lastOutcome as JobState['lastOutcome'],
    lastMessage: v.lastMessage as string,
    lastError: v.lastError as string,
    lastScheduledMs: v.lastScheduledMs as number,
    needsResync: v.needsResync as boolean,
    needsApproval: v.needsApproval as boolean,
    pendingDeletes: [...(v.pendingDeletes as string[])],
    // Absent in states written before approvals carried a token: such a list was never handed out with one.
    approvalToken: isStr(v.approvalToken) ? v.approvalToken : '',
    pendingDeleteCount: isNum(v.pendingDeleteCount) ? v.pendingDeleteCount : (v.pendingDeletes as string[]).length,
    // Absent in states written before overwrites were listed.
    pendingOverwrites: overwrites,
    pendingOverwriteCount: isNum(v.pendingOverwriteCount) ? v.pendingOverwriteCount : overwrites.length,
    consecutiveFailures: v.consecutiveFailures as number,
    // Absent in states written before health existed: the last finish counts when it was ok.
    lastSuccessMs: isNum(v.lastSuccessMs) ? v.lastSuccessMs : okFinish(v.lastOutcome as JobState['lastOutcome'], v.lastFinishedMs as number),
    trackedSinceMs: isNum(v.trackedSinceMs) ? v.trackedSinceMs : (v.lastStartedMs as number),
    retryAtMs: v.retryAtMs as number,
    hashWarning: v.hashWarning as boolean,
    interrupted: v.interrupted as boolean,
    sideCheck,
    localMounts,
  };
}

/**
 * The state that replaces an unreadable one. It cannot trust the old listings' history, so it forgets the
 * resync: the next run is a resync, which never deletes (with --resync-mode newer where rclone has it).
 */
export function rebuiltJobState(): JobState {
  return { ...initialJobState(), lastMessage: 'state file was unreadable and has been rebuilt; the next run is a resync' };
}
