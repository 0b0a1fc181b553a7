// Config text → validated Config, or a ConfigError listing every problem as `file:line:col path: what (expected)`.
// Pure: no file system, no environment; the caller passes the file name, the home directory and rclone's capabilities.

import { posix } from 'node:path';
import type { ErrorObject } from 'ajv';
import { ConfigError } from '../errors.js';
import { parseDurationSeconds } from '../api/duration.js';
import type { ConfigIssue } from '../errors.js';
import { flagName } from '../rclone/flags.js';
import { legacyOptionProblem, legacyTopLevelProblem } from './migration.js';
import { optionCapsProblem, optionKeyProblem } from '../rclone/option-rules.js';
import { secretOptionProblem } from '../rclone/secret-options.js';
import type { OptionMapKind } from '../rclone/option-rules.js';
import { directoryKey, hasControlChar, isWithin, nestedPairs, resolveAbsolute, resolveConfigFile, resolveInside } from './paths.js';
import { flagSupport } from '../rclone/caps.js';
import { normalizeSchedule, scheduleProblem } from './schedule.js';
import { POWER_EXPECTED, RUN_CONDITION_KEYS, schemaErrors, STALE_AFTER_MAX_SEC, STALE_AFTER_MIN_SEC } from './schema.js';
import { bwlimitProblem, isBwlimitOption } from '../rclone/bwlimit.js';
import { NO_CONDITIONS } from '../conditions/evaluate.js';
import { parseWindow, WINDOW_EXPECTED as WINDOW_EXPECTED_TEXT } from '../conditions/windows.js';
import type { MeteredPolicy, MidRunPolicy, NetworkPolicy, PowerPolicy, RunConditions, TimeWindow } from '../conditions/types.js';
import { jobNameProblem } from '../api/requests.js';
import type { AlertSettings, Config, ConflictLoser, ConflictResolve, GlobalSettings, JobConfig, JobDefaults, NotificationLevel, OptionMap, OptionValue, RcloneCapabilities, WatchSettings } from './types.js';
import { decodeConfigText, nowhere, readYamlSource } from './yaml-source.js';
import { DEFAULT_WATCH, readWatchKeys } from './watch-settings.js';
import type { Locator, PathSegment } from './yaml-source.js';

export interface ParseOptions {
  /** Path of the config file: named in every issue, becomes Config.path, and anchors relative filter-file paths. */
  file: string;
  /** Home directory for `~` expansion. */
  home: string;
  /** When given, every option must be accepted by this rclone. */
  caps?: RcloneCapabilities;
}

/** Values used for keys the file leaves out. */
/** Alert settings when the config says nothing (issue 15). */
export const DEFAULT_ALERTS: AlertSettings = Object.freeze({ notifications: 'attention', onAttention: Object.freeze([]), staleAfterSec: undefined, failuresBeforeAlert: 3 });
/** The default action of a notification: a terminal showing the job (x-terminal-emulator is Debian's alternative). */
export const DEFAULT_DETAILS_COMMAND: readonly string[] = Object.freeze(['x-terminal-emulator', '-e', 'rbmctl', '{action}', '{job}']);

export const DEFAULTS = Object.freeze({
  redirectRcloneLogOutput: false,
  maxCpuUsagePercent: 100,
  rcloneNice: 10,
  runMissedJobs: false,
  runInitialSyncOnStartup: false,
  maxParallelJobs: 2,
  rcloneBinary: 'rclone',
  shutdownGraceSec: 10,
  dryRun: false,
  active: true,
});

/** Job-level safety and conflict settings when neither the job nor the top level sets them. */
export const JOB_DEFAULTS: JobDefaults = Object.freeze({
  checkAccess: false,
  checksumCompare: true,
  conflictResolve: undefined,
  conflictLoser: undefined,
  conflictSuffix: undefined,
});

/** Shown as the file of issues in a job definition that did not come from a file (D-Bus AddJob). */
export const DEFINITION_FILE = '(job definition)';

const LOCAL_REMOTES = new Set(['', 'local']);
const REMOTE_NAME = /^[A-Za-z0-9_.+@](?:[A-Za-z0-9_.+@ -]*[A-Za-z0-9_.+@-])?$/;
const CONFLICT_KEYS = ['conflict_resolve', 'conflict_loser', 'conflict_suffix'] as const;
const OPTION_KINDS: readonly OptionMapKind[] = ['rclone_options', 'bisync_options', 'resync_options'];

type Raw = Record<string, unknown>;

interface Context {
  file: string;
  home: string | undefined;
  caps: RcloneCapabilities | undefined;
  configDir: string;
  locator: Locator;
  issues: ConfigIssue[];
  /** Paths (joined with NUL) the schema already complained about, so they are not reported twice. */
  bad: Set<string>;
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function report(ctx: Context, path: readonly PathSegment[], part: 'key' | 'value', message: string): void {
  ctx.issues.push({ file: ctx.file, ...ctx.locator.at(path, part), path: path.join('.'), message });
}

function clean(ctx: Context, path: readonly PathSegment[]): boolean {
  return !ctx.bad.has(path.join('\0'));
}

// ---------------------------------------------------------------------------------------------
// Schema errors → issues

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  return 'a mapping';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const normalized = key.toLowerCase().replace(/-/g, '_');
  const close = allowed.filter((k) => k === normalized || editDistance(normalized, k) <= Math.max(1, Math.floor(k.length / 4)));
  if (close.length > 0) return `unknown key "${key}" (did you mean ${close.map((k) => `"${k}"`).join(' or ')}?)`;
  return `unknown key "${key}" (expected one of: ${allowed.join(', ')})`;
}

/** A run condition written beside the job keys instead of inside run_conditions (`metered: avoid` in a job). */
function misplacedConditionMessage(key: string, path: readonly string[]): string | undefined {
  const atJobOrTop = path.length === 0 || (path.length === 2 && path[0] === 'sync_jobs');
  if (!atJobOrTop || !(RUN_CONDITION_KEYS as readonly string[]).includes(key)) return undefined;
  return `unknown key "${key}" (expected it inside run_conditions, as run_conditions: {${key}: ...})`;
}

function pointerPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function schemaIssue(ctx: Context, error: ErrorObject): void {
  const path = pointerPath(error.instancePath);
  const parent = error.parentSchema as { description?: string; properties?: Record<string, { description?: string }> } | undefined;
  const expected = parent?.description ?? 'a valid value';
  const data: unknown = error.data;
  // A value the schema rejected is not checked again; a mapping with a missing or unknown key still is.
  if (error.keyword !== 'required' && error.keyword !== 'additionalProperties') ctx.bad.add(path.join('\0'));
  switch (error.keyword) {
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      const what = parent?.properties?.[missing]?.description ?? 'a value';
      const where = path.length === 0 ? [] : path;
      ctx.issues.push({ file: ctx.file, ...ctx.locator.at(where, 'key'), path: [...path, missing].join('.'), message: `required key "${missing}" is missing (expected ${what})` });
      return;
    }
    case 'additionalProperties': {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      ctx.bad.add([...path, extra].join('\0'));
      const legacy = path.length === 0 ? legacyTopLevelProblem(extra) : undefined;
      report(ctx, [...path, extra], 'key', legacy ?? misplacedConditionMessage(extra, path) ?? unknownKeyMessage(extra, Object.keys(parent?.properties ?? {})));
      return;
    }
    case 'type': {
      let message = `wrong type: ${describeValue(data)} (expected ${expected})`;
      if (typeof data === 'string' && /^(yes|no|on|off|y|n)$/i.test(data) && expected === 'true or false') {
        message = `wrong type: ${describeValue(data)} (expected true or false; YAML 1.2 reads yes/no/on/off as text)`;
      } else if (data === null && expected.includes('~')) {
        message = `wrong type: ${describeValue(data)} (expected ${expected}; YAML reads a bare ~ as empty, write "~" in quotes)`;
      }
      report(ctx, path, 'value', message);
      return;
    }
    case 'enum':
      report(ctx, path, 'value', `${JSON.stringify(data)} is not allowed (expected ${expected})`);
      return;
    case 'minimum':
    case 'maximum':
      report(ctx, path, 'value', `${String(data)} is out of range (expected ${expected})`);
      return;
    case 'minLength':
      report(ctx, path, 'value', `the value is empty (expected ${expected})`);
      return;
    case 'minItems':
      report(ctx, path, 'value', `the list is empty (expected ${expected})`);
      return;
    default:
      report(ctx, path, 'value', `${error.message ?? 'invalid value'} (expected ${expected})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Semantic checks

function checkOptionMap(ctx: Context, path: readonly PathSegment[], kind: OptionMapKind, value: unknown): OptionMap {
  if (!isRecord(value) || !clean(ctx, path)) return {};
  const seen = new Map<string, string>();
  const out: Record<string, OptionValue> = {};
  for (const [key, optionValue] of Object.entries(value)) {
    const keyPath = [...path, key];
    const problem = legacyOptionProblem(key, kind, optionValue, ctx.caps) ?? optionKeyProblem(key, kind);
    if (problem !== undefined) {
      report(ctx, keyPath, 'key', problem);
      continue;
    }
    const name = flagName(key);
    const twin = seen.get(name);
    if (twin !== undefined) {
      report(ctx, keyPath, 'key', `option "${key}" is the same flag as "${twin}" (expected each flag once per map)`);
      continue;
    }
    seen.set(name, key);
    if (ctx.caps !== undefined) {
      const capsProblem = optionCapsProblem(key, ctx.caps);
      if (capsProblem !== undefined) report(ctx, keyPath, 'key', capsProblem);
    }
    const secretProblem = secretOptionProblem(key, optionValue as OptionValue);
    if (secretProblem !== undefined) report(ctx, keyPath, 'value', secretProblem);
    const rateProblem = isBwlimitOption(key) && clean(ctx, keyPath) ? bwlimitProblem(optionValue) : undefined;
    if (rateProblem !== undefined) report(ctx, keyPath, 'value', rateProblem);
    if (!clean(ctx, keyPath)) continue;
    out[key] = Array.isArray(optionValue) ? Object.freeze([...(optionValue as (string | number)[])]) : (optionValue as OptionValue);
  }
  return out;
}

function optionMaps(ctx: Context, prefix: readonly PathSegment[], raw: Raw): Record<OptionMapKind, OptionMap> {
  const [rclone, bisync, resync] = OPTION_KINDS.map((kind) => checkOptionMap(ctx, [...prefix, kind], kind, raw[kind]));
  return { rclone_options: rclone ?? {}, bisync_options: bisync ?? {}, resync_options: resync ?? {} };
}

function parseGrace(value: unknown): number | undefined {
  // shutdown_grace predates days; "1d" would be far beyond its limit anyway.
  return typeof value === 'number' ? value : parseDurationSeconds(value);
}

function stringAt(ctx: Context, raw: Raw, path: readonly PathSegment[], key: string): string | undefined {
  const value = raw[key];
  return typeof value === 'string' && clean(ctx, [...path, key]) ? value : undefined;
}

function boolAt(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key];
  return typeof value === 'boolean' ? value : fallback;
}

function rcloneBinaryOf(ctx: Context, raw: Raw): string {
  const binary = stringAt(ctx, raw, [], 'rclone_binary');
  if (binary === undefined) return DEFAULTS.rcloneBinary;
  const resolved = binary.includes('/') || binary.startsWith('~') ? resolveAbsolute(binary, ctx.home, 'a command name on PATH or an absolute path') : { ok: true as const, path: binary };
  if (resolved.ok && !/\s/.test(resolved.path)) return resolved.path;
  report(ctx, ['rclone_binary'], 'value', resolved.ok ? `"${binary}" contains blanks (expected a command name on PATH or an absolute path, without arguments)` : resolved.message);
  return DEFAULTS.rcloneBinary;
}

/** The job-default keys (check_access, checksum_compare, conflict_*) in `raw`, over `fallback`; checked at `prefix`. */
function jobDefaultsAt(ctx: Context, raw: Raw, prefix: readonly PathSegment[], fallback: JobDefaults): JobDefaults {
  const conflictSuffix = stringAt(ctx, raw, prefix, 'conflict_suffix');
  if (conflictSuffix !== undefined && !/^[^/,\s]+(?:,[^/,\s]+)?$/.test(conflictSuffix)) {
    report(ctx, [...prefix, 'conflict_suffix'], 'value', `"${conflictSuffix}" is not a usable suffix (expected one word such as "conflict", or two as "a,b", without "/" or blanks)`);
  }
  if (ctx.caps !== undefined) {
    for (const key of CONFLICT_KEYS) {
      if (raw[key] === undefined || !clean(ctx, [...prefix, key])) continue;
      const support = flagSupport(ctx.caps, key);
      if (!support.ok) {
        const since = support.reason === 'too-old' ? `needs rclone >= ${support.addedIn}` : 'is not supported';
        report(ctx, [...prefix, key], 'key', `${key} (--${flagName(key)}) ${since}, but the installed rclone is ${ctx.caps.version} (expected no ${key} with this rclone, or upgrade rclone)`);
      }
    }
  }
  return {
    checkAccess: boolAt(raw, 'check_access', fallback.checkAccess),
    checksumCompare: boolAt(raw, 'checksum_compare', fallback.checksumCompare),
    conflictResolve: (stringAt(ctx, raw, prefix, 'conflict_resolve') as ConflictResolve | undefined) ?? fallback.conflictResolve,
    conflictLoser: (stringAt(ctx, raw, prefix, 'conflict_loser') as ConflictLoser | undefined) ?? fallback.conflictLoser,
    conflictSuffix: conflictSuffix ?? fallback.conflictSuffix,
  };
}

/** A command's argv (on_attention, notification_details_command): the first item names the program, with no shell. */
function commandAt(ctx: Context, raw: Raw, path: readonly PathSegment[], key: string): readonly string[] | undefined {
  const value = raw[key];
  if (!Array.isArray(value) || !clean(ctx, [...path, key]) || !value.every((item): item is string => typeof item === 'string')) return undefined;
  const [program, ...args] = value;
  if (program === undefined) return undefined;
  const expected = 'a command name on PATH or an absolute path, alone: each argument is its own list item; no shell';
  if (/\s/.test(program)) {
    report(ctx, [...path, key, 0], 'value', `"${program}" contains blanks (expected ${expected})`);
    return undefined;
  }
  if (!program.includes('/') && !program.startsWith('~')) return Object.freeze([program, ...args]);
  const resolved = resolveAbsolute(program, ctx.home, expected);
  if (resolved.ok) return Object.freeze([resolved.path, ...args]);
  report(ctx, [...path, key, 0], 'value', resolved.message);
  return undefined;
}

/** stale_after: a duration from a minute to a year (the schema has checked the type, and the range of a number). */
function staleAfterAt(ctx: Context, raw: Raw, path: readonly PathSegment[]): number | undefined {
  const value = raw.stale_after;
  if (value === undefined || !clean(ctx, [...path, 'stale_after'])) return undefined;
  const seconds = parseDurationSeconds(value);
  const expected = 'a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds';
  if (seconds === undefined) report(ctx, [...path, 'stale_after'], 'value', `${JSON.stringify(value)} is not a duration (expected ${expected})`);
  else if (seconds < STALE_AFTER_MIN_SEC || seconds > STALE_AFTER_MAX_SEC) report(ctx, [...path, 'stale_after'], 'value', `${JSON.stringify(value)} is out of range (expected ${expected})`);
  else return seconds;
  return undefined;
}

/** on_attention: the command, or none for a job that says `[]` or null (the top level's command turned off). */
function onAttentionAt(ctx: Context, raw: Raw, path: readonly PathSegment[], fallback: readonly string[]): readonly string[] {
  const value = raw.on_attention;
  const none = value === null || (Array.isArray(value) && value.length === 0);
  if (none && clean(ctx, [...path, 'on_attention'])) return Object.freeze([]);
  return commandAt(ctx, raw, path, 'on_attention') ?? fallback;
}

/** The alert keys in `raw` over `fallback` (the global settings for a job, the defaults for the top level). */
function alertsAt(ctx: Context, raw: Raw, path: readonly PathSegment[], fallback: AlertSettings): AlertSettings {
  const notifications = stringAt(ctx, raw, path, 'notifications') as NotificationLevel | undefined;
  const failures = raw.failures_before_alert;
  return Object.freeze({
    notifications: notifications ?? fallback.notifications,
    onAttention: onAttentionAt(ctx, raw, path, fallback.onAttention),
    staleAfterSec: staleAfterAt(ctx, raw, path) ?? fallback.staleAfterSec,
    failuresBeforeAlert: typeof failures === 'number' && clean(ctx, [...path, 'failures_before_alert']) ? failures : fallback.failuresBeforeAlert,
  });
}

/** power: any, ac or battery_above_N (the schema has checked that it is a string). */
function powerAt(ctx: Context, path: readonly PathSegment[], value: unknown): PowerPolicy | undefined {
  if (typeof value !== 'string' || !clean(ctx, path)) return undefined;
  if (value === 'any' || value === 'ac') return { kind: value };
  const match = /^battery_above_(\d{1,2})$/.exec(value);
  const percent = Number(match?.[1]);
  if (match !== null && percent >= 1 && percent <= 99) return { kind: 'battery-above', percent };
  report(ctx, path, 'value', `${JSON.stringify(value)} is not allowed (expected ${POWER_EXPECTED})`);
  return undefined;
}

/** windows: every item a window; a bad one is reported at its own line and the list is not used. */
function windowsAt(ctx: Context, path: readonly PathSegment[], value: unknown): readonly TimeWindow[] | undefined {
  if (!Array.isArray(value) || !clean(ctx, path)) return undefined;
  const windows: TimeWindow[] = [];
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'string' || !clean(ctx, [...path, index])) return;
    const parsed = parseWindow(item);
    if (parsed.ok) windows.push(parsed.window);
    else report(ctx, [...path, index], 'value', `${parsed.problem} (expected ${WINDOW_EXPECTED_TEXT})`);
  });
  return windows.length === value.length ? Object.freeze(windows) : undefined;
}

/** The run_conditions mapping in `raw` over `fallback` (the global conditions for a job, none for the top level). */
function runConditionsAt(ctx: Context, raw: Raw, prefix: readonly PathSegment[], fallback: RunConditions): RunConditions {
  const path = [...prefix, 'run_conditions'];
  const own = raw.run_conditions;
  if (!isRecord(own) || !clean(ctx, path)) return fallback;
  return Object.freeze({
    metered: (stringAt(ctx, own, path, 'metered') as MeteredPolicy | undefined) ?? fallback.metered,
    power: powerAt(ctx, [...path, 'power'], own.power) ?? fallback.power,
    network: (stringAt(ctx, own, path, 'network') as NetworkPolicy | undefined) ?? fallback.network,
    windows: windowsAt(ctx, [...path, 'windows'], own.windows) ?? fallback.windows,
    midRun: (stringAt(ctx, own, path, 'mid_run') as MidRunPolicy | undefined) ?? fallback.midRun,
  });
}

/** The watch keys in `raw` over `fallback` (the global settings for a job, the defaults for the top level). */
function watchAt(ctx: Context, raw: Raw, path: readonly PathSegment[], fallback: WatchSettings): WatchSettings {
  const read = readWatchKeys(raw, fallback, (key) => clean(ctx, [...path, key]));
  for (const problem of read.problems) report(ctx, [...path, problem.key], 'value', problem.message);
  return read.settings;
}

function checkGlobal(ctx: Context, raw: Raw): GlobalSettings | undefined {
  let localBasePath: string | undefined;
  const base = stringAt(ctx, raw, [], 'local_base_path');
  if (base !== undefined) {
    const resolved = resolveAbsolute(base, ctx.home, 'an absolute directory, or one starting with ~/');
    if (resolved.ok) localBasePath = resolved.path;
    else report(ctx, ['local_base_path'], 'value', resolved.message);
  }
  let exclusionRulesFile: string | undefined;
  const rules = stringAt(ctx, raw, [], 'exclusion_rules_file');
  if (rules !== undefined) {
    const resolved = resolveConfigFile(rules, ctx.configDir, ctx.home);
    if (resolved.ok) exclusionRulesFile = resolved.path;
    else report(ctx, ['exclusion_rules_file'], 'value', resolved.message);
  }
  const rcloneBinary = rcloneBinaryOf(ctx, raw);
  let shutdownGraceSec: number = DEFAULTS.shutdownGraceSec;
  if (raw.shutdown_grace !== undefined && clean(ctx, ['shutdown_grace'])) {
    const seconds = parseGrace(raw.shutdown_grace);
    if (seconds === undefined || seconds > 3600) {
      const why = seconds === undefined ? 'is not a duration' : 'is more than an hour';
      report(ctx, ['shutdown_grace'], 'value', `${JSON.stringify(raw.shutdown_grace)} ${why} (expected seconds from 0 to 3600, or a duration such as "90s", "2m" or "1m30s")`);
    } else {
      shutdownGraceSec = seconds;
    }
  }
  const maps = optionMaps(ctx, [], raw);
  const jobDefaults = jobDefaultsAt(ctx, raw, [], JOB_DEFAULTS);
  const alerts = alertsAt(ctx, raw, [], DEFAULT_ALERTS);
  const detailsCommand = commandAt(ctx, raw, [], 'notification_details_command') ?? DEFAULT_DETAILS_COMMAND;
  const runConditions = runConditionsAt(ctx, raw, [], NO_CONDITIONS);
  const watch = watchAt(ctx, raw, [], DEFAULT_WATCH);
  if (localBasePath === undefined) return undefined;
  const number = (key: string, fallback: number): number => (typeof raw[key] === 'number' ? raw[key] : fallback);
  return {
    localBasePath,
    exclusionRulesFile,
    redirectRcloneLogOutput: boolAt(raw, 'redirect_rclone_log_output', DEFAULTS.redirectRcloneLogOutput),
    maxCpuUsagePercent: number('max_cpu_usage_percent', DEFAULTS.maxCpuUsagePercent),
    rcloneNice: number('rclone_nice', DEFAULTS.rcloneNice),
    runMissedJobs: boolAt(raw, 'run_missed_jobs', DEFAULTS.runMissedJobs),
    runInitialSyncOnStartup: boolAt(raw, 'run_initial_sync_on_startup', DEFAULTS.runInitialSyncOnStartup),
    maxParallelJobs: number('max_parallel_jobs', DEFAULTS.maxParallelJobs),
    rcloneBinary,
    shutdownGraceSec,
    dryRun: boolAt(raw, 'dry_run', DEFAULTS.dryRun),
    rcloneOptions: maps.rclone_options,
    bisyncOptions: maps.bisync_options,
    resyncOptions: maps.resync_options,
    jobDefaults,
    alerts,
    detailsCommand,
    runConditions,
    watch,
  };
}

/** Paths of a job, as needed for the overlap check. */
interface JobPaths {
  name: string;
  /** Location to report an overlap at; undefined for jobs already in force (AddJob compares against them). */
  path: readonly PathSegment[] | undefined;
  local: string | undefined;
  path2: string | undefined;
  /** Path2 is a local directory. */
  path2Local: boolean;
}

function checkJob(ctx: Context, name: string, raw: Raw, base: string | undefined, inherited: Inherited): { job?: JobConfig; paths: JobPaths } {
  const { defaults, alerts: globalAlerts, runConditions: globalConditions, watch: globalWatch } = inherited;
  const prefix = ['sync_jobs', name];
  const paths: JobPaths = { name, path: prefix, local: undefined, path2: undefined, path2Local: false };

  let schedule: string | undefined;
  const rawSchedule = stringAt(ctx, raw, prefix, 'schedule');
  if (rawSchedule !== undefined) {
    const problem = scheduleProblem(rawSchedule);
    if (problem === undefined) schedule = normalizeSchedule(rawSchedule);
    else report(ctx, [...prefix, 'schedule'], 'value', problem);
  }

  const rawLocal = stringAt(ctx, raw, prefix, 'local');
  if (rawLocal !== undefined && base !== undefined) {
    const resolved = resolveInside(base, rawLocal, ctx.home);
    if (resolved.ok) paths.local = resolved.path;
    else report(ctx, [...prefix, 'local'], 'value', resolved.message);
  }

  const rcloneRemote = stringAt(ctx, raw, prefix, 'rclone_remote');
  const remote = stringAt(ctx, raw, prefix, 'remote');
  let remoteOk = false;
  if (rcloneRemote !== undefined) {
    if (LOCAL_REMOTES.has(rcloneRemote)) {
      paths.path2Local = true;
      remoteOk = true;
    } else if (rcloneRemote.endsWith(':') && REMOTE_NAME.test(rcloneRemote.slice(0, -1))) {
      report(ctx, [...prefix, 'rclone_remote'], 'value', `"${rcloneRemote}" ends with a colon (expected the remote name alone: "${rcloneRemote.slice(0, -1)}")`);
    } else if (!REMOTE_NAME.test(rcloneRemote)) {
      report(ctx, [...prefix, 'rclone_remote'], 'value', `"${rcloneRemote}" is not an rclone remote name (expected letters, digits, _ . + @ - and inner spaces, without the colon; or "" / "local" for a local Path2)`);
    } else {
      remoteOk = true;
    }
  }
  if (remote !== undefined && remoteOk && rcloneRemote !== undefined) {
    if (paths.path2Local) {
      const resolved = resolveAbsolute(remote, ctx.home, `an absolute directory, because rclone_remote is ${JSON.stringify(rcloneRemote)} (a local Path2)`);
      if (resolved.ok) paths.path2 = resolved.path;
      else report(ctx, [...prefix, 'remote'], 'value', resolved.message);
    } else if (hasControlChar(remote)) {
      report(ctx, [...prefix, 'remote'], 'value', `${JSON.stringify(remote)} contains a control character (expected a plain path)`);
    } else {
      paths.path2 = `${rcloneRemote}:${remote}`;
    }
  }

  let filtersFile: string | undefined;
  const rawFilters = stringAt(ctx, raw, prefix, 'filters_file');
  if (rawFilters !== undefined) {
    const resolved = resolveConfigFile(rawFilters, ctx.configDir, ctx.home);
    if (resolved.ok) filtersFile = resolved.path;
    else report(ctx, [...prefix, 'filters_file'], 'value', resolved.message);
  }

  const own = jobDefaultsAt(ctx, raw, prefix, defaults);
  const alerts = alertsAt(ctx, raw, prefix, globalAlerts);
  const runConditions = runConditionsAt(ctx, raw, prefix, globalConditions);
  const watch = watchAt(ctx, raw, prefix, globalWatch);

  const maps = optionMaps(ctx, prefix, raw);

  if (schedule === undefined || paths.local === undefined || paths.path2 === undefined || rcloneRemote === undefined || remote === undefined) return { paths };
  return {
    paths,
    job: {
      name,
      local: paths.local,
      rcloneRemote,
      remote,
      path2: paths.path2,
      schedule,
      active: boolAt(raw, 'active', DEFAULTS.active),
      dryRun: boolAt(raw, 'dry_run', false),
      forceResync: boolAt(raw, 'force_resync', false),
      forceOperation: boolAt(raw, 'force_operation', false),
      checkAccess: own.checkAccess,
      checksumCompare: own.checksumCompare,
      autoResync: boolAt(raw, 'auto_resync', false),
      conflictResolve: own.conflictResolve,
      conflictLoser: own.conflictLoser,
      conflictSuffix: own.conflictSuffix,
      filtersFile,
      rcloneOptions: maps.rclone_options,
      bisyncOptions: maps.bisync_options,
      resyncOptions: maps.resync_options,
      alerts,
      runConditions,
      watch,
    },
  };
}

/** `remote:dir/` and `remote:dir` name the same directory. */
function trimRemote(path: string): string {
  return path.replace(/(?<=[^:/])\/+$/, '');
}

/** `remote:a` contains `remote:a/b`; `remote:` contains everything on that remote. */
function remoteWithin(parent: string, child: string): boolean {
  const [a, b] = [trimRemote(parent), trimRemote(child)];
  if (a === b) return true;
  return b.startsWith(a.endsWith(':') || a.endsWith('/') ? a : `${a}/`);
}

/** `remote:dir` as a key for nestedPairs: `remote:` and `remote:/` contain everything under them. */
function remoteKey(path: string): string {
  const trimmed = trimRemote(path);
  return trimmed.endsWith(':') || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** Jobs must not share or nest directories: two bisyncs over the same files fight each other. */
function checkOverlaps(ctx: Context, jobs: readonly JobPaths[]): void {
  const overlap = (a: string, b: string, local: boolean): boolean => (local ? isWithin(a, b) || isWithin(b, a) : remoteWithin(a, b) || remoteWithin(b, a));
  for (const job of jobs) {
    if (job.path === undefined) continue;
    if (job.local !== undefined && job.path2 !== undefined && job.path2Local && overlap(job.local, job.path2, true)) {
      report(ctx, [...job.path, 'remote'], 'value', `Path2 ${job.path2} overlaps this job's own local directory ${job.local} (expected two separate directory trees)`);
    }
  }
  // Find the overlapping pairs first (sorted keys), then describe each as the pairwise comparison would.
  const localDirs: { key: string; owner: number }[] = [];
  const remoteDirs: { key: string; owner: number }[] = [];
  jobs.forEach((job, owner) => {
    if (job.local !== undefined) localDirs.push({ key: directoryKey(job.local), owner });
    if (job.path2 !== undefined) (job.path2Local ? localDirs : remoteDirs).push({ key: job.path2Local ? directoryKey(job.path2) : remoteKey(job.path2), owner });
  });
  const earlierOf = new Map<number, Set<number>>();
  for (const [earlier, later] of [...nestedPairs(localDirs), ...nestedPairs(remoteDirs)]) {
    const set = earlierOf.get(later) ?? new Set<number>();
    set.add(earlier);
    earlierOf.set(later, set);
  }
  for (const j of [...earlierOf.keys()].sort((a, b) => a - b)) {
    const later = jobs[j]!;
    if (later.path === undefined) continue;
    for (const i of [...earlierOf.get(j)!].sort((a, b) => a - b)) {
      const earlier = jobs[i]!;
      // Every local directory (Path1s and local Path2s) of the two jobs, against each other.
      const mine: [string, 'local' | 'remote'][] = [];
      if (later.local !== undefined) mine.push([later.local, 'local']);
      if (later.path2 !== undefined && later.path2Local) mine.push([later.path2, 'remote']);
      const theirs: string[] = [];
      if (earlier.local !== undefined) theirs.push(earlier.local);
      if (earlier.path2 !== undefined && earlier.path2Local) theirs.push(earlier.path2);
      let reported = false;
      for (const [dir, key] of mine) {
        const other = theirs.find((t) => overlap(t, dir, true));
        if (other === undefined || reported) continue;
        const how = other === dir ? `is the same directory as` : isWithin(other, dir) ? `is inside` : `contains`;
        report(ctx, [...later.path, key], 'value', `${dir} ${how} ${other} of job "${earlier.name}" (expected each job to sync its own directory tree)`);
        reported = true;
      }
      if (!reported && !later.path2Local && !earlier.path2Local && later.path2 !== undefined && earlier.path2 !== undefined && overlap(earlier.path2, later.path2, false)) {
        const how = trimRemote(later.path2) === trimRemote(earlier.path2) ? 'is the same Path2 as' : 'overlaps Path2';
        report(ctx, [...later.path, 'remote'], 'value', `${later.path2} ${how} ${earlier.path2} of job "${earlier.name}" (expected each job to sync its own remote directory)`);
      }
    }
  }
}

function checkJobs(ctx: Context, rawJobs: unknown, base: string | undefined, existing: readonly JobPaths[], inherited: Inherited): JobConfig[] {
  if (!isRecord(rawJobs) || !clean(ctx, ['sync_jobs'])) return [];
  const jobs: JobConfig[] = [];
  const paths: JobPaths[] = [...existing];
  for (const [name, raw] of Object.entries(rawJobs)) {
    const nameProblem = jobNameProblem(name);
    if (nameProblem !== undefined) report(ctx, ['sync_jobs', name], 'key', nameProblem);
    if (existing.some((job) => job.name === name)) {
      report(ctx, ['sync_jobs', name], 'key', `a job named "${name}" already exists (expected a new name, or remove the old job first)`);
    }
    if (!isRecord(raw) || !clean(ctx, ['sync_jobs', name])) continue;
    const checked = checkJob(ctx, name, raw, base, inherited);
    paths.push(checked.paths);
    if (checked.job) jobs.push(checked.job);
  }
  checkOverlaps(ctx, paths);
  return jobs;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return [...issues]
    .filter((issue) => {
      const key = `${issue.line}:${issue.col}:${issue.path}:${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

function newContext(file: string, home: string | undefined, caps: RcloneCapabilities | undefined, locator: Locator): Context {
  return { file, home, caps, configDir: posix.dirname(file), locator, issues: [], bad: new Set() };
}

/** What a job takes from the config it joins (AddJob): its defaults, alert settings and run conditions. */
/** What a job takes from the top level (or, for AddJob, from the config in force) where it says nothing itself. */
interface Inherited {
  defaults: JobDefaults;
  alerts: AlertSettings;
  runConditions: RunConditions;
  watch: WatchSettings;
}

function validate(ctx: Context, value: unknown, existing: readonly JobPaths[] = [], inherited?: Inherited): { global?: GlobalSettings; jobs: JobConfig[] } {
  for (const error of schemaErrors(value)) schemaIssue(ctx, error);
  if (!isRecord(value)) return { jobs: [] };
  const global = checkGlobal(ctx, value);
  const from: Inherited = inherited ?? { defaults: global?.jobDefaults ?? JOB_DEFAULTS, alerts: global?.alerts ?? DEFAULT_ALERTS, runConditions: global?.runConditions ?? NO_CONDITIONS, watch: global?.watch ?? DEFAULT_WATCH };
  const jobs = checkJobs(ctx, value.sync_jobs, global?.localBasePath, existing, from);
  return global === undefined ? { jobs } : { global, jobs };
}

/** Config text read as YAML, not yet validated: read once, validated once the rclone it names is known. */
export interface ConfigSource {
  readonly file: string;
  readonly value: unknown;
  readonly locator: Locator;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Read config.yaml's text as YAML. Throws ConfigError when it is not readable as such.
 * Bytes are checked before parsing: more than 1 MiB or invalid UTF-8 is refused with the first bad byte's position.
 */
export function readConfigSource(text: string | Uint8Array, file: string): ConfigSource {
  const decoded = decodeConfigText(text, file);
  if ('issue' in decoded) throw new ConfigError([decoded.issue]);
  const source = readYamlSource(decoded.text, file);
  if (!source.ok) throw new ConfigError(sortIssues(source.issues));
  return { file, value: source.value, locator: source.locator, issues: source.issues };
}

/** The rclone_binary the source names (the default when it names none or a bad one: validation reports that). */
export function configuredRcloneBinary(source: ConfigSource, home: string): string {
  const ctx = newContext(source.file, home, undefined, source.locator);
  return isRecord(source.value) ? rcloneBinaryOf(ctx, source.value) : DEFAULTS.rcloneBinary;
}

/** Validate a source read by readConfigSource. Throws ConfigError carrying every problem found, sorted by position. */
export function validateConfigSource(source: ConfigSource, options: Omit<ParseOptions, 'file'>): Config {
  const ctx = newContext(source.file, options.home, options.caps, source.locator);
  ctx.issues.push(...source.issues);
  const { global, jobs } = validate(ctx, source.value);
  if (ctx.issues.length > 0 || global === undefined) throw new ConfigError(sortIssues(ctx.issues));
  return { path: source.file, global, jobs };
}

/** Parse and validate config.yaml: readConfigSource, then validateConfigSource. */
export function parseConfig(text: string | Uint8Array, options: ParseOptions): Config {
  return validateConfigSource(readConfigSource(text, options.file), options);
}

/** D-Bus integers arrive as bigint, and JS callers may pass undefined for "not set"; everything else is taken as is. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (Array.isArray(value)) return value.map(plainValue);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, plainValue(v)]));
  return value;
}

/**
 * Validate one job definition (the keys of a sync_jobs entry) as if it were added to `config`'s file:
 * same rules, plus no clash with the jobs already there. Issues name paths like `sync_jobs.NAME.schedule`
 * and the file DEFINITION_FILE, as the definition has no lines of its own. `home` expands `~` in paths.
 */
export function parseJobDefinition(name: string, definition: Readonly<Record<string, unknown>>, config: Config, caps?: RcloneCapabilities, home?: string): JobConfig {
  const ctx = newContext(DEFINITION_FILE, home, caps, nowhere);
  ctx.configDir = posix.dirname(config.path);
  const existing: JobPaths[] = config.jobs.map((job) => ({ name: job.name, path: undefined, local: job.local, path2: job.path2, path2Local: LOCAL_REMOTES.has(job.rcloneRemote) }));
  const value = { local_base_path: config.global.localBasePath, sync_jobs: { [name]: plainValue(definition) } };
  const { jobs } = validate(ctx, value, existing, { defaults: config.global.jobDefaults, alerts: config.global.alerts, runConditions: config.global.runConditions, watch: config.global.watch });
  const job = jobs[0];
  if (ctx.issues.length > 0 || job === undefined) throw new ConfigError(sortIssues(ctx.issues), 'Fix the job definition and try again.');
  return job;
}
