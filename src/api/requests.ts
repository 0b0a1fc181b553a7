// The one parser of what callers ask for: job names, lists of them, run requests, approval tokens and snooze
// durations. The D-Bus adapter, rbmctl, the config parser and the config editor turn their input into typed values
// here, with the same limits and the same words; the service trusts the typed values it is given.

import { RbmError } from '../errors.js';
import type { RunRequest } from '../run/types.js';
import { parseDurationSeconds } from './duration.js';

/** Longest job name (the config's rule since the first release). */
export const JOB_NAME_MAX = 64;
/** Most job names one call may carry (D-Bus Sync/Pause/Resume/Cancel, rbmctl's positional lists). */
export const JOB_NAMES_MAX = 1000;
/** 1 to JOB_NAME_MAX of A-Z a-z 0-9 . _ -, starting with a letter or digit: safe as a file name and an argument. */
export const JOB_NAME_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${JOB_NAME_MAX - 1}}$`);

const JOB_NAME_RULE = `expected 1 to ${JOB_NAME_MAX} letters, digits, ".", "_" or "-", starting with a letter or digit`;
const APPROVAL_TOKEN_PATTERN = /^[0-9a-f]{64}$/;

function invalid(message: string, hint?: string): RbmError {
  return new RbmError('InvalidArgs', message, hint === undefined ? {} : { hint });
}

/** A value shown inside an error message: quoted, control characters escaped, bounded. */
export function quoteForMessage(value: string, max = 64): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut) + (value.length > max ? ` (${value.length} characters)` : '');
}

export function isJobName(value: string): boolean {
  return JOB_NAME_PATTERN.test(value);
}

/** What is wrong with `name` as a job name, in the words every caller shows; undefined when it is a good name. */
export function jobNameProblem(name: string): string | undefined {
  if (name.length > JOB_NAME_MAX) return `job name too long (${name.length} characters, at most ${JOB_NAME_MAX})`;
  if (!isJobName(name)) return `invalid job name ${quoteForMessage(name)} (${JOB_NAME_RULE})`;
  return undefined;
}

/** A job name argument; throws InvalidArgs naming `argument` and what is wrong. */
export function parseJobName(value: unknown, argument: string): string {
  if (typeof value !== 'string') throw invalid(`${argument}: expected a job name (a string), got ${value === null ? 'null' : typeof value}`);
  const problem = jobNameProblem(value);
  if (problem !== undefined) throw invalid(`${argument}: ${problem}`);
  return value;
}

/** A list of job names, at most JOB_NAMES_MAX, duplicates dropped (first occurrence kept). */
export function parseJobNames(values: unknown, argument: string): string[] {
  if (!Array.isArray(values)) throw invalid(`${argument}: expected a list of job names`);
  // Counted before any name is looked at, so a huge list costs nothing more than its length.
  if (values.length > JOB_NAMES_MAX) throw invalid(`${argument}: too many job names (${values.length}, at most ${JOB_NAMES_MAX})`);
  const names = values.map((value: unknown, i) => parseJobName(value, `${argument}[${i}]`));
  return [...new Set(names)];
}

/** The flags of a run request as a caller sent them (D-Bus options dict, rbmctl flags); undefined means not set. */
export interface RunOptionsInput {
  resync?: unknown;
  force?: unknown;
  dryRun?: unknown;
  respectConditions?: unknown;
}

/** How each caller names the arguments in its messages (D-Bus `options.force`, rbmctl `--force-bisync`). */
export interface RunRequestArguments {
  jobs: string;
  resync: string;
  force: string;
  dryRun: string;
  respectConditions: string;
}

export const DBUS_RUN_ARGUMENTS: RunRequestArguments = { jobs: 'jobs', resync: 'options.resync', force: 'options.force', dryRun: 'options.dry_run', respectConditions: 'options.respect_conditions' };
export const RBMCTL_RUN_ARGUMENTS: RunRequestArguments = { jobs: 'jobs', resync: '--resync', force: '--force-bisync', dryRun: '--dry-run', respectConditions: '--respect-conditions' };

function parseFlag(value: unknown, argument: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(`${argument}: expected a boolean, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/** A manual run request: only the flags that are set appear (a dry run never turns into a real one later). */
export function parseRunRequest(options: RunOptionsInput, args: RunRequestArguments = DBUS_RUN_ARGUMENTS): RunRequest {
  const request: RunRequest = { trigger: 'manual' };
  if (parseFlag(options.resync, args.resync)) request.resync = true;
  if (parseFlag(options.force, args.force)) request.force = true;
  if (parseFlag(options.dryRun, args.dryRun)) request.dryRun = true;
  if (parseFlag(options.respectConditions, args.respectConditions)) request.respectConditions = true;
  return request;
}

/**
 * force deletes what the user has not seen: only for jobs named in the request, never for every waiting job. The
 * parsers call it, and the service again before it acts (a safety rule gets a second guard, whatever the caller).
 */
export function refuseForceForEveryJob(names: readonly string[], request: Pick<RunRequest, 'force'>, argument = 'options.force'): void {
  if (request.force === true && names.length === 0) {
    throw invalid(`${argument} needs the jobs named: it never approves every waiting job at once`, 'Name the jobs (rbmctl sync JOB --force-bisync), or review and approve each list with: rbmctl approve JOB');
  }
}

/** A Sync call: the jobs (empty: every active job) and the run request, with the rules that join them. */
export function parseSyncRequest(jobs: unknown, options: RunOptionsInput, args: RunRequestArguments): { jobs: string[]; request: RunRequest } {
  const names = parseJobNames(jobs, args.jobs);
  const request = parseRunRequest(options, args);
  refuseForceForEveryJob(names, request, args.force);
  return { jobs: names, request };
}

/** The token of a pending-deletes list (64 lower-case hex digits, run/approval-token.ts). */
export function parseApprovalToken(value: unknown, argument: string): string {
  if (typeof value !== 'string' || !APPROVAL_TOKEN_PATTERN.test(value)) {
    throw invalid(`${argument}: expected the 64-character token of the pending list, got ${typeof value === 'string' ? quoteForMessage(value) : typeof value}`);
  }
  return value;
}

/** Longest snooze: 30 days (a longer silence is `notifications: none` in the config, which says so where it is kept). */
export const SNOOZE_MAX_SECONDS = 30 * 86_400;

const SNOOZE_RULE = 'expected a duration from 1 second to 30 days, e.g. 90m, 2h, 1d12h, or a number of seconds';

/**
 * How long a snooze lasts, in whole seconds: D-Bus sends a number (`t`), rbmctl the text a person typed ("2h",
 * read by api/duration.ts). 0 and more than SNOOZE_MAX_SECONDS are refused, never clamped.
 */
export function parseSnoozeSeconds(value: unknown, argument: string): number {
  const seconds = typeof value === 'bigint' ? (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : Infinity) : parseDurationSeconds(value);
  if (seconds === undefined || !(seconds >= 1 && seconds <= SNOOZE_MAX_SECONDS)) {
    const shown = typeof value === 'string' ? quoteForMessage(value) : typeof value === 'number' || typeof value === 'bigint' ? `${value} seconds` : typeof value;
    throw invalid(`${argument}: ${SNOOZE_RULE}, got ${shown}`);
  }
  return seconds;
}

/** A Snooze call: the jobs (empty: every job, new ones too) and the seconds; the names are read first. */
export function parseSnoozeRequest(jobs: unknown, seconds: unknown, argument: { jobs: string; seconds: string }): { jobs: string[]; seconds: number } {
  const names = parseJobNames(jobs, argument.jobs);
  return { jobs: names, seconds: parseSnoozeSeconds(seconds, argument.seconds) };
}
