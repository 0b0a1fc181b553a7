// What a ControlApi caller sent, checked before the service acts on it: job names, job lists and run options.
// Every failure is RbmError InvalidArgs naming the argument.
import { JOB_NAME_PATTERN } from '../config/types.js';
import type { RunRequest } from '../run/types.js';
import { RbmError } from '../errors.js';

const MAX_JOB_ARGS = 10_000;
const REQUEST_KEYS = new Set(['resync', 'force', 'dryRun', 'trigger']);
const TRIGGERS = new Set(['schedule', 'manual', 'startup', 'missed', 'retry', 'add-job']);

/** A value safe to quote in an error message, whatever the caller sent. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}

export function invalidArgs(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}

export function validateJobName(value: unknown, arg: string): string {
  if (typeof value !== 'string') throw invalidArgs(`${arg}: expected a job name (string), got ${typeof value}`);
  if (!JOB_NAME_PATTERN.test(value)) {
    throw new RbmError('InvalidArgs', `${arg}: ${quote(value)} is not a valid job name`, { hint: 'Job names are 1–64 characters: letters, digits, ".", "_" and "-", starting with a letter or digit.' });
  }
  return value;
}

export function validateJobList(value: unknown, arg: string): string[] {
  if (!Array.isArray(value)) throw invalidArgs(`${arg}: expected a list of job names`);
  if (value.length > MAX_JOB_ARGS) throw invalidArgs(`${arg}: too many job names (${value.length}, at most ${MAX_JOB_ARGS})`);
  const names = value.map((v: unknown, i) => validateJobName(v, `${arg}[${i}]`));
  return [...new Set(names)];
}

export function validateRequest(value: unknown): RunRequest {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgs('options: expected a map of options');
  const request: RunRequest = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!REQUEST_KEYS.has(key)) throw invalidArgs(`options: unknown option ${quote(key)} (known: resync, force, dry_run)`);
    if (v === undefined) continue;
    if (key === 'trigger') {
      if (typeof v !== 'string' || !TRIGGERS.has(v)) throw invalidArgs(`options.trigger: ${quote(v)} is not a trigger`);
      request.trigger = v as NonNullable<RunRequest['trigger']>;
      continue;
    }
    if (typeof v !== 'boolean') throw invalidArgs(`options.${key === 'dryRun' ? 'dry_run' : key}: expected a boolean, got ${typeof v}`);
    if (key === 'resync') request.resync = v;
    else if (key === 'force') request.force = v;
    else request.dryRun = v;
  }
  return request;
}
