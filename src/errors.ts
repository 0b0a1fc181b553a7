// The one error table: each code has one D-Bus error name and one rbmctl exit code.
// Imports nothing, so every layer (core, service, D-Bus, CLI) can depend on it.

export const BUS_NAME = 'io.github.rbmanager.RcloneBisyncManager1';
export const OBJECT_PATH = '/io/github/rbmanager/RcloneBisyncManager1';
export const MANAGER_INTERFACE = `${BUS_NAME}.Manager`;
export const JOB_INTERFACE = `${BUS_NAME}.Job`;

/** code → [D-Bus error name, rbmctl exit code]. Exit codes are an API: never renumber. */
export const ERROR_TABLE = {
  RunFailed: [`${BUS_NAME}.Error.RunFailed`, 1],
  InvalidArgs: ['org.freedesktop.DBus.Error.InvalidArgs', 2],
  NoSuchJob: [`${BUS_NAME}.Error.NoSuchJob`, 3],
  JobExists: [`${BUS_NAME}.Error.JobExists`, 4],
  AlreadyRunning: [`${BUS_NAME}.Error.AlreadyRunning`, 5],
  NeedsResync: [`${BUS_NAME}.Error.NeedsResync`, 6],
  NeedsApproval: [`${BUS_NAME}.Error.NeedsApproval`, 7],
  Cancelled: [`${BUS_NAME}.Error.Cancelled`, 8],
  Paused: [`${BUS_NAME}.Error.Paused`, 9],
  RcloneUnsupported: [`${BUS_NAME}.Error.RcloneUnsupported`, 10],
  CheckFailed: [`${BUS_NAME}.Error.CheckFailed`, 11],
  ApprovalStale: [`${BUS_NAME}.Error.ApprovalStale`, 12],
  ServiceUnavailable: [`${BUS_NAME}.Error.ServiceUnavailable`, 69],
  Internal: [`${BUS_NAME}.Error.Internal`, 70],
  StateError: [`${BUS_NAME}.Error.StateError`, 74],
  Retryable: [`${BUS_NAME}.Error.Retryable`, 75],
  InvalidConfig: [`${BUS_NAME}.Error.InvalidConfig`, 78],
} as const satisfies Record<string, readonly [string, number]>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/**
 * The service process's own exit codes, with whether a restart by systemd can cure the cause. The unit's
 * RestartPreventExitStatus= lists exactly the codes marked false (test/unit/daemon-exit-codes.test.ts checks it).
 */
export const DAEMON_EXIT_TABLE = {
  /** SIGTERM/SIGINT after a clean shutdown; --help and --version. */
  Stopped: { code: 0, restartCures: true },
  /** The bus name is owned by another instance, the session bus is unreachable, or the connection was lost. */
  BusUnavailable: { code: 1, restartCures: true },
  /** Bad command-line arguments (the unit's ExecStart= must be edited). */
  Usage: { code: 2, restartCures: false },
  /** This Node.js is older than package.json's engines.node (bin/require-node.js, before the bundle loads). */
  NodeTooOld: { code: 69, restartCures: false },
  /** An internal error during start-up or shutdown (logged with its stack). */
  Internal: { code: 70, restartCures: true },
} as const satisfies Record<string, { code: number; restartCures: boolean }>;

export type DaemonExit = keyof typeof DAEMON_EXIT_TABLE;

export function daemonExitCode(exit: DaemonExit): number {
  return DAEMON_EXIT_TABLE[exit].code;
}

export const EXIT_OK = 0;

/** `rbmctl status` when any job's health is not ok (attention, failing or stale): for cron, monitoring and status bars. */
export const EXIT_JOBS_NEED_ATTENTION = 13;

/**
 * When several runs end differently, the most serious exit code wins (rbmctl sync, one-shot and --wait):
 * no such job, internal error, failed, needs resync, needs approval, check failed, already running, cancelled, retryable.
 */
const EXIT_SEVERITY: readonly number[] = [3, 70, 1, 6, 7, 11, 5, 8, 75];

export function worstExitCode(codes: readonly number[]): number {
  let worst = EXIT_OK;
  let worstRank = Infinity;
  for (const code of codes) {
    if (code === EXIT_OK) continue;
    const rank = EXIT_SEVERITY.indexOf(code);
    const effectiveRank = rank === -1 ? EXIT_SEVERITY.length : rank;
    if (effectiveRank < worstRank) {
      worst = code;
      worstRank = effectiveRank;
    }
  }
  return worst;
}

export function errorName(code: ErrorCode): string {
  return ERROR_TABLE[code][0];
}

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_TABLE[code][1];
}

/** The error code whose D-Bus name is `name`, or undefined for foreign names. */
export function codeForErrorName(name: string): ErrorCode | undefined {
  for (const [code, [dbusName]] of Object.entries(ERROR_TABLE)) {
    if (dbusName === name) return code as ErrorCode;
  }
  return undefined;
}

export interface RbmErrorOptions {
  /** What the user should do next. */
  hint?: string;
  cause?: unknown;
}

/** Every error the product raises on purpose. `message` says what happened, `hint` what to do. */
export class RbmError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: RbmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RbmError';
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  get dbusName(): string {
    return errorName(this.code);
  }

  /** Message and hint as one line-oriented text, as printed by rbmctl and sent over D-Bus. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

/** One problem found in a config file, located as precisely as the parser allows. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the offending key, e.g. `sync_jobs.photos.schedule`; empty for the document. */
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : ` ${issue.path}`;
  return printable(`${issue.file}:${issue.line}:${issue.col}${where}: ${issue.message}`);
}

/**
 * Control characters other than newline and tab, written as \uXXXX: a key or value from a broken file may hold a NUL,
 * which no terminal shows and no D-Bus string may contain (the reply carrying it would be lost).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A config that failed validation: carries every issue, not just the first. */
export class ConfigError extends RbmError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], hint = 'Fix the config file and reload (rbmctl reload), or check it with rbmctl check-config.') {
    super('InvalidConfig', `invalid config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map(formatIssue).join('\n')}`, { hint });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function isRbmError(e: unknown): e is RbmError {
  return e instanceof RbmError;
}

/** Text of any thrown value, for logs and error replies. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
