// JSON Schema of config.yaml (structure and types only; meaning is checked in parse.ts).
// `additionalProperties: false` at every level so that a typo is an error, never a silently ignored key.
// Each `description` is the "what is expected" half of an error message.

import type { ErrorObject } from 'ajv';
import { validate as validateConfigValue } from './schema-validator.generated.js';
import { WINDOW_EXPECTED } from '../conditions/windows.js';
import { WATCH_KEYS, type WatchKey } from './watch-settings.js';

const bool = { type: 'boolean', description: 'true or false' } as const;
const optionalPath = { type: ['string', 'null'], minLength: 1, description: 'a file path (absolute, ~/…, or relative to the config file)' } as const;

export const OPTION_VALUE_DESCRIPTION = 'a string, a number, true, false, null, or a list of strings and numbers';

const optionMap = {
  type: ['object', 'null'],
  description: 'a mapping of rclone flag names to values, e.g. {max_delete: 25}',
  additionalProperties: {
    type: ['string', 'number', 'boolean', 'null', 'array'],
    description: OPTION_VALUE_DESCRIPTION,
    items: { type: ['string', 'number'], description: 'a string or a number' },
  },
} as const;

const conflictResolve = {
  type: 'string',
  enum: ['none', 'path1', 'path2', 'newer', 'older', 'larger', 'smaller'],
  description: 'one of none, path1, path2, newer, older, larger, smaller',
} as const;
const conflictLoser = { type: 'string', enum: ['num', 'pathname', 'delete'], description: 'one of num, pathname, delete' } as const;
const conflictSuffix = { type: 'string', minLength: 1, description: 'a suffix such as "conflict", or two as "a,b"' } as const;

// Alert keys (issue 15): global and per job; a job's own value wins.
const notifications = { type: 'string', enum: ['all', 'attention', 'none'], description: 'one of all, attention, none' } as const;
const commandList = (what: string) =>
  ({
    type: 'array',
    minItems: 1,
    description: `${what}: a list such as ["~/bin/alert", "--urgent"] whose first item is a command name on PATH or an absolute path, each argument its own item`,
    items: { type: 'string', minLength: 1, description: 'a non-empty string' },
  }) as const;
const onAttention = commandList('the command run for each alert');
/** A job's on_attention may also be [] or null: no command for this job, whatever the top level says. */
const jobOnAttention = {
  type: ['array', 'null'],
  description: 'the command run for each alert of this job (a list such as ["~/bin/alert", "--urgent"] whose first item is a command name on PATH or an absolute path, each argument its own item), or [] / null for none',
  items: { type: 'string', minLength: 1, description: 'a non-empty string' },
} as const;
/** 1 minute to 365 days. */
export const STALE_AFTER_MIN_SEC = 60;
export const STALE_AFTER_MAX_SEC = 365 * 86_400;
const STALE_AFTER_DESCRIPTION = 'a duration from 1 minute to 365 days, such as "36h", "2d" or "90m", or seconds';
const staleAfter = { type: ['integer', 'string'], minimum: STALE_AFTER_MIN_SEC, maximum: STALE_AFTER_MAX_SEC, description: STALE_AFTER_DESCRIPTION } as const;
const failuresBeforeAlert = { type: 'integer', minimum: 1, maximum: 100, description: 'a whole number from 1 to 100' } as const;

// Run conditions (issue 17): a mapping at the top level (every job) and per job (the job's own keys win, key by key).
// The values of power and of each window are checked in parse.ts, with a message naming the part that is wrong.
export const POWER_EXPECTED = 'any, ac, or battery_above_N with N from 1 to 99 (e.g. battery_above_30: on battery, run only while the charge is above 30%)';
export const RUN_CONDITION_KEYS = ['metered', 'power', 'network', 'windows', 'mid_run'] as const;
const runConditions = {
  type: ['object', 'null'],
  description: 'a mapping of run conditions: metered, power, network, windows, mid_run',
  additionalProperties: false,
  properties: {
    metered: { type: 'string', enum: ['allow', 'avoid'], description: 'allow or avoid (avoid: no run on a metered connection)' },
    power: { type: 'string', minLength: 1, description: POWER_EXPECTED },
    network: { type: 'string', enum: ['any', 'full'], description: 'any or full (full: run only while NetworkManager reports full connectivity)' },
    windows: { type: 'array', description: `a list of time windows, each ${WINDOW_EXPECTED}`, items: { type: 'string', minLength: 1, description: WINDOW_EXPECTED } },
    mid_run: { type: 'string', enum: ['stop', 'finish'], description: 'stop or finish (what a window end or a metered connection does to a running sync)' },
  },
} as const;
// Sync on change keys (issue 16): global and per job; a job's own value wins. Ranges are checked in watch-settings.ts.
const watchDuration = { type: ['number', 'string'], minimum: 0, description: 'a duration such as "1s", "500ms" or 0.5 (seconds)' } as const;
const watchProperties = { watch: bool, watch_delay: watchDuration, watch_max_wait: watchDuration } as const satisfies Record<WatchKey, unknown>;

/** Job keys that may also be set at the top level as the default of every job (the job's own value wins). */
export const JOB_DEFAULT_KEYS = ['check_access', 'checksum_compare', 'conflict_resolve', 'conflict_loser', 'conflict_suffix'] as const;

/** Alert keys (issue 15): set at the top level for every job, and per job (the job's own value wins). */
export const ALERT_KEYS = ['notifications', 'on_attention', 'stale_after', 'failures_before_alert'] as const;

export const JOB_KEYS = [
  'local',
  'rclone_remote',
  'remote',
  'schedule',
  'active',
  'dry_run',
  'force_resync',
  'force_operation',
  'check_access',
  'checksum_compare',
  'auto_resync',
  'conflict_resolve',
  'conflict_loser',
  'conflict_suffix',
  ...ALERT_KEYS,
  'run_conditions',
  ...WATCH_KEYS,
  'filters_file',
  'rclone_options',
  'bisync_options',
  'resync_options',
] as const;

export const REQUIRED_JOB_KEYS = ['local', 'rclone_remote', 'remote', 'schedule'] as const;

export const jobSchema = {
  type: 'object',
  description: 'a job: a mapping with local, rclone_remote, remote and schedule',
  additionalProperties: false,
  required: [...REQUIRED_JOB_KEYS],
  properties: {
    local: { type: 'string', minLength: 1, description: 'a directory under local_base_path, relative to it or absolute' },
    rclone_remote: { type: 'string', description: 'an rclone remote name without the colon, or "" / "local" for a local Path2' },
    remote: { type: 'string', description: 'the path on the remote; an absolute directory when rclone_remote is "" or "local"' },
    schedule: { type: 'string', minLength: 1, description: 'a cron expression with 5 or 6 fields, e.g. "*/15 * * * *"' },
    active: bool,
    dry_run: bool,
    force_resync: bool,
    force_operation: bool,
    check_access: bool,
    checksum_compare: bool,
    auto_resync: bool,
    conflict_resolve: conflictResolve,
    conflict_loser: conflictLoser,
    conflict_suffix: conflictSuffix,
    notifications,
    on_attention: jobOnAttention,
    stale_after: staleAfter,
    failures_before_alert: failuresBeforeAlert,
    run_conditions: runConditions,
    ...watchProperties,
    filters_file: optionalPath,
    rclone_options: optionMap,
    bisync_options: optionMap,
    resync_options: optionMap,
  },
} as const;

export const TOP_LEVEL_KEYS = [
  'local_base_path',
  'exclusion_rules_file',
  'redirect_rclone_log_output',
  'max_cpu_usage_percent',
  'rclone_nice',
  'run_missed_jobs',
  'run_initial_sync_on_startup',
  'max_parallel_jobs',
  'rclone_binary',
  'shutdown_grace',
  'dry_run',
  ...JOB_DEFAULT_KEYS,
  ...ALERT_KEYS,
  ...WATCH_KEYS,
  'notification_details_command',
  'run_conditions',
  'rclone_options',
  'bisync_options',
  'resync_options',
  'sync_jobs',
] as const;

export const configSchema = {
  type: 'object',
  description: 'a mapping with keys such as local_base_path and sync_jobs',
  additionalProperties: false,
  required: ['local_base_path'],
  properties: {
    local_base_path: { type: 'string', minLength: 1, description: 'an absolute directory, or one starting with ~/' },
    exclusion_rules_file: optionalPath,
    redirect_rclone_log_output: bool,
    max_cpu_usage_percent: { type: 'integer', minimum: 1, maximum: 100, description: 'a whole number from 1 to 100' },
    rclone_nice: { type: 'integer', minimum: 0, maximum: 19, description: 'a whole number from 0 to 19' },
    run_missed_jobs: bool,
    run_initial_sync_on_startup: bool,
    max_parallel_jobs: { type: 'integer', minimum: 1, maximum: 64, description: 'a whole number from 1 to 64' },
    rclone_binary: { type: 'string', minLength: 1, description: 'a command name on PATH or an absolute path' },
    shutdown_grace: {
      type: ['integer', 'string'],
      minimum: 0,
      maximum: 3600,
      description: 'seconds from 0 to 3600, or a duration such as "90s", "2m" or "1m30s"',
    },
    dry_run: bool,
    check_access: bool,
    checksum_compare: bool,
    conflict_resolve: conflictResolve,
    conflict_loser: conflictLoser,
    conflict_suffix: conflictSuffix,
    notifications,
    on_attention: onAttention,
    stale_after: staleAfter,
    failures_before_alert: failuresBeforeAlert,
    ...watchProperties,
    notification_details_command: commandList('the command a notification\'s default action runs ({job} becomes the job\'s name)'),
    run_conditions: runConditions,
    rclone_options: optionMap,
    bisync_options: optionMap,
    resync_options: optionMap,
    sync_jobs: {
      type: ['object', 'null'],
      description: 'a mapping of job names to jobs',
      additionalProperties: jobSchema,
    },
  },
} as const;

/** How the schema is compiled (scripts/generate-config-validator.ts): `verbose` keeps parentSchema and data on each error for messages. */
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true } as const;

/** The validator ajv generated from configSchema at build time (compiling it at every start cost ~100 ms). */
type GeneratedValidator = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Every schema error for `value`, empty when it is structurally valid. */
export function schemaErrors(value: unknown): ErrorObject[] {
  const validate = validateConfigValue as GeneratedValidator;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}
