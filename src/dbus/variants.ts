// Plain values ⇄ D-Bus variants: the a{sv} dicts we send (status, jobs, run records, progress) and strict
// reading of the a{sv} dicts we receive (run options, job definitions). Bad input is RbmError('InvalidArgs').

import * as dbus from 'dbus-next';
import { RbmError, printable } from '../errors.js';
import type { Progress, RunRecord, RunRequest } from '../run/types.js';
import type { JobStatus, ServiceStatus } from '../api/control-api.js';
import { parseRunRequest, quoteForMessage, type RunOptionsInput } from '../api/requests.js';
import { MAX_JOBS_PER_CALL, MAX_STRING_LENGTH, jobObjectPath } from './contract.js';

const { Variant } = dbus;
export type Variant = dbus.Variant;
export type VariantDict = Record<string, Variant>;

const U32_MAX = 0xffff_ffff;

/** Milliseconds since the epoch → µs since the epoch as `t`; 0 (never) stays 0. */
export function msToUsec(ms: number): bigint {
  if (!Number.isFinite(ms) || ms <= 0) return 0n;
  return BigInt(Math.round(ms * 1000));
}

/** A count as `u`: non-negative integer, clamped. */
export function u32(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(U32_MAX, Math.round(n));
}

/** A count or size as `t`. */
export function u64(n: number): bigint {
  if (!Number.isFinite(n) || n <= 0) return 0n;
  return BigInt(Math.round(n));
}

function i32(n: number | null): number {
  if (n === null || !Number.isFinite(n)) return -1;
  return Math.max(-0x8000_0000, Math.min(0x7fff_ffff, Math.round(n)));
}

const v = (signature: string, value: unknown): Variant => new Variant(signature, value);

// ---------------------------------------------------------------- outgoing

export function progressToDict(progress: Progress): VariantDict {
  const dict: VariantDict = {
    bytes: v('t', u64(progress.bytes)),
    total_bytes: v('t', u64(progress.totalBytes)),
    transfers: v('u', u32(progress.transfers)),
    total_transfers: v('u', u32(progress.totalTransfers)),
    speed: v('d', Number.isFinite(progress.speed) && progress.speed > 0 ? progress.speed : 0),
  };
  if (progress.etaSec !== null && Number.isFinite(progress.etaSec)) dict.eta_sec = v('t', u64(progress.etaSec));
  return dict;
}

/** A run record as `a{sv}` (History entries and JobFinished details; the output tail only in History). */
export function runRecordToDict(record: RunRecord, options: { includeTail: boolean }): VariantDict {
  const dict: VariantDict = {
    run_id: v('t', u64(record.runId)),
    job: v('s', record.job),
    result: v('s', record.outcome),
    operation: v('s', record.operation),
    trigger: v('s', record.trigger),
    dry_run: v('b', record.dryRun),
    started_usec: v('t', msToUsec(record.startedMs)),
    finished_usec: v('t', msToUsec(record.finishedMs)),
    exit_code: v('i', i32(record.exitCode)),
    signal: v('s', record.signal ?? ''),
    message: v('s', record.message),
    hint: v('s', record.hint),
    error: v('s', record.errorText),
    files: v('t', u64(record.counts.filesTransferred)),
    bytes: v('t', u64(record.counts.bytesTransferred)),
    deletes: v('u', u32(record.counts.deletes)),
    renames: v('u', u32(record.counts.renames)),
    errors: v('u', u32(record.counts.errors)),
    conflicts: v('as', record.conflicts.map((c) => c.path)),
    hash_warnings: v('u', u32(record.hashWarnings)),
  };
  if (options.includeTail) dict.tail = v('as', [...record.tail]);
  return dict;
}

/** Values of the Job interface's properties, keyed by property name (JS values, signature in contract.ts). */
export type JobProperties = {
  Name: string;
  Local: string;
  Remote: string;
  Schedule: string;
  Active: boolean;
  DryRun: boolean;
  State: string;
  LastResult: string;
  LastRunId: bigint;
  LastRunUsec: bigint;
  NextRunUsec: bigint;
  NeedsResync: boolean;
  NeedsApproval: boolean;
  HashWarning: boolean;
  LastError: string;
  Paused: boolean;
  CpuLimitApplied: boolean;
  Health: string;
  HealthReason: string;
  SnoozedUntilUsec: bigint;
  Watch: string;
  Waiting: string;
};

export function jobProperties(status: JobStatus): JobProperties {
  return {
    Name: status.name,
    Local: status.config.local,
    Remote: status.config.path2,
    Schedule: status.config.schedule,
    Active: status.config.active,
    DryRun: status.config.dryRun,
    State: status.activity,
    LastResult: status.state.lastOutcome,
    LastRunId: u64(status.state.lastRunId),
    LastRunUsec: msToUsec(status.state.lastStartedMs),
    NextRunUsec: msToUsec(status.nextRunMs),
    NeedsResync: status.state.needsResync,
    NeedsApproval: status.state.needsApproval,
    HashWarning: status.state.hashWarning,
    LastError: status.state.lastError,
    Paused: status.paused,
    CpuLimitApplied: !status.cpuLimitNotApplied,
    Health: status.health,
    HealthReason: printable(status.healthReason),
    SnoozedUntilUsec: msToUsec(status.snoozedUntilMs),
    Watch: status.watch?.state ?? 'off',
    Waiting: status.waiting,
  };
}

/** One job in Status(): snake_case keys, the same facts as the Job object's properties plus a few more. */
export function jobStatusToDict(status: JobStatus): VariantDict {
  const dict: VariantDict = {
    name: v('s', status.name),
    path: v('o', jobObjectPath(status.name)),
    state: v('s', status.activity),
    paused: v('b', status.paused),
    local: v('s', status.config.local),
    remote: v('s', status.config.path2),
    schedule: v('s', status.config.schedule),
    active: v('b', status.config.active),
    dry_run: v('b', status.config.dryRun),
    last_result: v('s', status.state.lastOutcome),
    last_message: v('s', status.state.lastMessage),
    last_error: v('s', status.state.lastError),
    last_run_id: v('t', u64(status.state.lastRunId)),
    last_run_usec: v('t', msToUsec(status.state.lastStartedMs)),
    last_finished_usec: v('t', msToUsec(status.state.lastFinishedMs)),
    next_run_usec: v('t', msToUsec(status.nextRunMs)),
    current_run_id: v('t', u64(status.currentRunId)),
    needs_resync: v('b', status.state.needsResync),
    needs_approval: v('b', status.state.needsApproval),
    hash_warning: v('b', status.state.hashWarning),
    cpu_limit_applied: v('b', !status.cpuLimitNotApplied),
    checksum_note: v('s', status.checksumNote ?? ''),
    health: v('s', status.health),
    health_reason: v('s', printable(status.healthReason)),
    snoozed_until_usec: v('t', msToUsec(status.snoozedUntilMs)),
    watch: v('s', status.watch?.state ?? 'off'),
    watch_message: v('s', status.watch?.message ?? ''),
    waiting: v('s', status.waiting),
    conditions_note: v('s', status.conditionsNote ?? ''),
  };
  if (status.progress) dict.progress = v('a{sv}', progressToDict(status.progress));
  if (status.state.needsApproval) {
    // Only while a list waits: the sizes of its two parts (PendingApproval and PendingOverwrites page through them).
    dict.pending_deletes = v('u', status.state.pendingDeleteCount);
    dict.pending_overwrites = v('u', status.state.pendingOverwriteCount);
  }
  return dict;
}

export function serviceStatusToDict(status: ServiceStatus): VariantDict {
  return {
    state: v('s', status.state),
    version: v('s', status.version),
    config_path: v('s', status.configPath),
    config_error: v('s', printable(status.configError)),
    rclone_version: v('s', status.rcloneVersion),
    running_jobs: v('as', [...status.runningJobs]),
    queued_jobs: v('as', [...status.queuedJobs]),
    attention_jobs: v('as', [...status.attentionJobs]),
    snoozed_until_usec: v('t', msToUsec(status.snoozedUntilMs)),
    jobs: v('aa{sv}', status.jobs.map(jobStatusToDict)),
  };
}

// ---------------------------------------------------------------- incoming

/** What a key of an incoming dict may hold. `options` is an rclone option map (a{sv} of b, s, numbers, as). */
export type FieldType = 'b' | 's' | 'u' | 'as' | 'options';

const TYPE_WORDS: Record<FieldType, string> = {
  b: "'b' (boolean)",
  s: "'s' (string)",
  u: "'u' (unsigned integer)",
  as: "'as' (array of strings)",
  options: "'a{sv}' (option map)",
};

function invalid(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}


function isPlainDict(value: unknown): value is Record<string, unknown> {
  // a{sv} arrives as a plain object; a key "__proto__" would have replaced its prototype.
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function checkString(value: string, where: string): string {
  if (value.length > MAX_STRING_LENGTH) throw invalid(`${where}: string too long (${value.length} characters, at most ${MAX_STRING_LENGTH})`);
  return value;
}

const NUMERIC = new Set(['y', 'n', 'q', 'i', 'u', 'x', 't', 'd']);

function numericValue(variant: Variant, where: string): number {
  const raw: unknown = variant.value;
  const n = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
  if (!Number.isFinite(n) || (typeof raw === 'bigint' && !Number.isSafeInteger(n))) throw invalid(`${where}: number out of range`);
  return n;
}

function readStringArray(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((x): x is string => typeof x === 'string')) throw invalid(`${where}: expected type ${TYPE_WORDS.as}`);
  if (value.length > MAX_JOBS_PER_CALL) throw invalid(`${where}: too many entries (${value.length}, at most ${MAX_JOBS_PER_CALL})`);
  return value.map((s, i) => checkString(s, `${where}[${i}]`));
}

function readOptionMap(value: unknown, where: string): Record<string, string | number | boolean | string[]> {
  if (!isPlainDict(value)) throw invalid(`${where}: expected type ${TYPE_WORDS.options}${value === null || typeof value !== 'object' ? '' : " (the key '__proto__' is not allowed)"}`);
  const out: Record<string, string | number | boolean | string[]> = {};
  const keys = Object.keys(value);
  if (keys.length > MAX_JOBS_PER_CALL) throw invalid(`${where}: too many keys (${keys.length}, at most ${MAX_JOBS_PER_CALL})`);
  for (const key of keys) {
    const at = `${where}.${checkString(key, `${where} key`)}`;
    const item = value[key];
    if (!(item instanceof Variant)) throw invalid(`${at}: expected a variant`);
    if (item.signature === 'b' || item.signature === 's') {
      out[key] = item.signature === 's' ? checkString(item.value as string, at) : (item.value as boolean);
    } else if (NUMERIC.has(item.signature)) {
      out[key] = numericValue(item, at);
    } else if (item.signature === 'as') {
      out[key] = readStringArray(item.value, at);
    } else {
      throw invalid(`${at}: expected one of 'b', 's', a number type or 'as', got '${item.signature}'`);
    }
  }
  return out;
}

/**
 * Read an incoming a{sv}: every key must be in `schema` and hold the declared variant type.
 * `argument` names the D-Bus argument in error messages (e.g. "options").
 */
export function readDict(value: unknown, argument: string, schema: Readonly<Record<string, FieldType>>): Record<string, unknown> {
  if (!isPlainDict(value)) {
    throw invalid(`${argument}: expected an a{sv} dictionary${typeof value === 'object' && value !== null ? " (the key '__proto__' is not allowed)" : ''}`);
  }
  const out: Record<string, unknown> = {};
  const known = Object.keys(schema);
  for (const key of Object.keys(value)) {
    const type = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
    if (type === undefined) {
      throw invalid(`${argument}: unknown key ${quoteForMessage(key)} (known keys: ${known.join(', ')})`);
    }
    const item = value[key];
    const where = `${argument}.${key}`;
    if (!(item instanceof Variant)) throw invalid(`${where}: expected a variant`);
    const expected = type === 'options' ? 'a{sv}' : type;
    if (item.signature !== expected) throw invalid(`${where}: expected type ${TYPE_WORDS[type]}, got '${item.signature}'`);
    switch (type) {
      case 'b':
        out[key] = item.value as boolean;
        break;
      case 's':
        out[key] = checkString(item.value as string, where);
        break;
      case 'u':
        out[key] = item.value as number;
        break;
      case 'as':
        out[key] = readStringArray(item.value, where);
        break;
      case 'options':
        out[key] = readOptionMap(item.value, where);
        break;
    }
  }
  return out;
}

/** Keys of the options dict of Sync (manager and job). */
export const RUN_OPTION_SCHEMA = { resync: 'b', force: 'b', dry_run: 'b', respect_conditions: 'b' } as const satisfies Record<string, FieldType>;

/** The options dict of Sync as the flags api/requests.ts parses (variant types checked here). */
export function readRunOptions(value: unknown, argument: string): RunOptionsInput {
  const dict = readDict(value, argument, RUN_OPTION_SCHEMA);
  return { resync: dict.resync, force: dict.force, dryRun: dict.dry_run, respectConditions: dict.respect_conditions };
}

/** The options of Job.Sync (one job, named by the object): a run request. */
export function readRunRequest(value: unknown, argument: string): RunRequest {
  return parseRunRequest(readRunOptions(value, argument), { jobs: 'jobs', resync: `${argument}.resync`, force: `${argument}.force`, dryRun: `${argument}.dry_run`, respectConditions: `${argument}.respect_conditions` });
}

/** Keys of AddJob's definition: the keys of a `sync_jobs.<name>` entry in the config file. */
export const JOB_DEFINITION_SCHEMA = {
  local: 's',
  rclone_remote: 's',
  remote: 's',
  schedule: 's',
  active: 'b',
  dry_run: 'b',
  force_resync: 'b',
  force_operation: 'b',
  check_access: 'b',
  checksum_compare: 'b',
  auto_resync: 'b',
  conflict_resolve: 's',
  conflict_loser: 's',
  conflict_suffix: 's',
  filters_file: 's',
  rclone_options: 'options',
  bisync_options: 'options',
  resync_options: 'options',
} as const satisfies Record<string, FieldType>;

export function readJobDefinition(value: unknown, argument: string): Record<string, unknown> {
  return readDict(value, argument, JOB_DEFINITION_SCHEMA);
}

// ---------------------------------------------------------------- client side

/** Replace every Variant in a received value by its plain value (recursively); bigint stays bigint. */
export function unwrapVariants(value: unknown): unknown {
  if (value instanceof Variant) return unwrapVariants(value.value);
  if (Array.isArray(value)) return value.map(unwrapVariants);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(value)) out[k] = unwrapVariants(item);
    return out;
  }
  return value;
}

/** Plain JS values → an a{sv} for sending: booleans b, strings s, safe integers ≥ 0 u, other numbers d, string arrays as, objects a{sv}. */
export function toVariantDict(values: Readonly<Record<string, unknown>>): VariantDict {
  const out: VariantDict = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out[key] = toVariant(value, key);
  }
  return out;
}

function toVariant(value: unknown, where: string): Variant {
  if (value instanceof Variant) return value;
  if (typeof value === 'boolean') return v('b', value);
  if (typeof value === 'string') return v('s', value);
  if (typeof value === 'bigint') return v('t', value);
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= U32_MAX ? v('u', value) : Number.isSafeInteger(value) ? v('x', BigInt(value)) : v('d', value);
  if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return v('as', value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return v('a{sv}', toVariantDict(value as Record<string, unknown>));
  throw new RbmError('InvalidArgs', `${where}: cannot send this value over D-Bus`);
}
