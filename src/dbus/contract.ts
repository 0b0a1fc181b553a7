// The D-Bus contract in one place: names, member signatures, argument limits and object-path escaping.
// Shared by the server adapter, the client and the tests; imports only the error table and the request limits.

import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from '../errors.js';
import { JOB_NAME_PATTERN, JOB_NAMES_MAX } from '../api/requests.js';

export { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH };

export const OBJECT_MANAGER_INTERFACE = 'org.freedesktop.DBus.ObjectManager';
export const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';
export const JOB_PATH_PREFIX = `${OBJECT_PATH}/job`;

/** In-signatures of every method we export, by interface; a call with another signature is InvalidArgs. */
export const MANAGER_METHODS = {
  Sync: { in: 'asa{sv}', out: 'at' },
  Status: { in: '', out: 'a{sv}' },
  ListJobs: { in: '', out: 'a(ssso)' },
  Reload: { in: '', out: '' },
  AddJob: { in: 'sa{sv}', out: 'o' },
  RemoveJob: { in: 's', out: '' },
  Pause: { in: 'as', out: '' },
  Resume: { in: 'as', out: '' },
  Cancel: { in: 'as', out: '' },
  History: { in: 'su', out: 'aa{sv}' },
  PendingDeletes: { in: 's', out: 'as' },
  PendingApproval: { in: 'suu', out: 'suas' },
  PendingOverwrites: { in: 'suu', out: 'sua(ss)' },
  Approve: { in: 'ss', out: 't' },
  Snooze: { in: 'ast', out: '' },
  Unsnooze: { in: 'as', out: '' },
} as const satisfies Record<string, { in: string; out: string }>;

export const MANAGER_PROPERTIES = {
  Version: 's',
  State: 's',
  ConfigPath: 's',
  ConfigError: 's',
  RunningJobs: 'as',
  QueuedJobs: 'as',
  AttentionJobs: 'as',
  SnoozedUntilUsec: 't',
} as const satisfies Record<string, string>;

export const MANAGER_SIGNALS = {
  JobStarted: 'osts',
  JobProgress: 'osta{sv}',
  JobFinished: 'ostsa{sv}',
  ConfigReloaded: 'bs',
} as const satisfies Record<string, string>;

export const JOB_METHODS = {
  Sync: { in: 'a{sv}', out: 't' },
} as const satisfies Record<string, { in: string; out: string }>;

export const JOB_PROPERTIES = {
  Name: 's',
  Local: 's',
  Remote: 's',
  Schedule: 's',
  Active: 'b',
  DryRun: 'b',
  State: 's',
  LastResult: 's',
  LastRunId: 't',
  LastRunUsec: 't',
  NextRunUsec: 't',
  NeedsResync: 'b',
  NeedsApproval: 'b',
  HashWarning: 'b',
  LastError: 's',
  Paused: 'b',
  CpuLimitApplied: 'b',
  Health: 's',
  HealthReason: 's',
  SnoozedUntilUsec: 't',
  Watch: 's',
  Waiting: 's',
} as const satisfies Record<string, string>;

export const OBJECT_MANAGER_METHODS = {
  GetManagedObjects: { in: '', out: 'a{oa{sa{sv}}}' },
} as const satisfies Record<string, { in: string; out: string }>;

export const OBJECT_MANAGER_SIGNALS = {
  InterfacesAdded: 'oa{sa{sv}}',
  InterfacesRemoved: 'oas',
} as const satisfies Record<string, string>;

/** Longest string argument we look at (job names, definition values); longer is InvalidArgs. */
export const MAX_STRING_LENGTH = 4096;
/** Most job names in one call (api/requests.ts), and most entries of an incoming list or option map. */
export const MAX_JOBS_PER_CALL = JOB_NAMES_MAX;
/** Most run records one History call returns; 0 asks for the default (api/history-page.ts). */
export { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../api/history-page.js';
/** JobProgress signals per job and second, at most. */
export const MAX_PROGRESS_PER_SECOND = 4;

export { JOB_NAME_PATTERN };

function isAsciiLetter(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

function isAsciiDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/**
 * Escape one object-path element the way sd_bus_path_encode() does: ASCII letters and (not leading) digits stay,
 * every other byte of the UTF-8 encoding becomes `_xx` (lower-case hex); the empty string becomes `_`.
 */
export function escapePathElement(name: string): string {
  if (name === '') return '_';
  let out = '';
  const bytes = Buffer.from(name, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && (isAsciiLetter(c) || (i > 0 && isAsciiDigit(c)))) out += c;
    else out += '_' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

/** Inverse of escapePathElement; undefined when `element` is not a valid escaped element. */
export function unescapePathElement(element: string): string | undefined {
  if (element === '_') return '';
  if (!/^([A-Za-z0-9]|_[0-9a-f]{2})+$/.test(element)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < element.length; ) {
    if (element[i] === '_') {
      bytes.push(parseInt(element.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(element.charCodeAt(i));
      i += 1;
    }
  }
  const text = Buffer.from(bytes).toString('utf8');
  // Only the canonical spelling round-trips (no `_41` for `A`, no invalid UTF-8).
  return escapePathElement(text) === element ? text : undefined;
}

export function jobObjectPath(name: string): string {
  return `${JOB_PATH_PREFIX}/${escapePathElement(name)}`;
}

/** The job name an object path stands for, or undefined when it is not a job path. */
export function jobNameFromPath(path: string): string | undefined {
  const prefix = `${JOB_PATH_PREFIX}/`;
  if (!path.startsWith(prefix)) return undefined;
  const element = path.slice(prefix.length);
  if (element.includes('/')) return undefined;
  return unescapePathElement(element);
}
