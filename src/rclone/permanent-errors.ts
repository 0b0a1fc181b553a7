// rclone errors that no retry can fix: a remote missing from rclone.conf, credentials the remote refuses, a path the
// service's user may not read or write. A table of patterns over rclone's lines (both versions) → what is wrong, with
// what, and what to do. Pure. Transient failures (connection refused, timeouts) stay in output.ts's UNREACHABLE list.

export type PermanentKind = 'missing-remote' | 'auth' | 'permission';

/** One permanent error as rclone printed it. */
export interface PermanentError {
  kind: PermanentKind;
  /** The remote's name (missing-remote, auth) or the path (permission); '' when the line names neither. */
  subject: string;
  /** The first line that said so. */
  line: string;
}

interface PermanentRule {
  kind: PermanentKind;
  pattern: RegExp;
}

/** Checked in order; the first match decides the kind of a line. */
export const PERMANENT_RULES: readonly PermanentRule[] = Object.freeze([
  // 1.60: `didn't find section in config file`; 1.75 adds `("name")`.
  { kind: 'missing-remote', pattern: /didn't find section in config file/i },
  // sftp `ssh: unable to authenticate`, OAuth `invalid_grant` (token revoked), generic `authentication failed`.
  { kind: 'auth', pattern: /unable to authenticate|authentication failed|invalid_grant|no supported methods remain/i },
  // Local EACCES (`open /x/f: permission denied`, `failed to open directory "d": …`), sftp SSH_FX_PERMISSION_DENIED.
  { kind: 'permission', pattern: /permission denied/i },
]);

export const MAX_PERMANENT_ERRORS = 10;

/** `Failed to create file system for destination "box:share"` → `box`; 1.75's `("box")` after the section error. */
function remoteName(line: string): string {
  const quoted = /didn't find section in config file \("([^"]+)"\)/.exec(line);
  if (quoted?.[1] !== undefined) return quoted[1];
  const fs = /Failed to create file system for (?:source |destination )?"([^":]+):/.exec(line);
  return fs?.[1] ?? '';
}

/** The path in `<op> /abs/path: permission denied`, else the object of an ERROR line (a file), else ''. */
function deniedPath(line: string, object: string | undefined): string {
  const path = /(?:open|stat|lstat|mkdir|remove|rename|chtimes|chmod|readlink|openat|unlinkat) ([^\s:][^:]*?): permission denied/i.exec(line);
  if (path?.[1] !== undefined) return path[1];
  return object !== undefined && object !== '' && !object.includes(' ') ? object : '';
}

/** The permanent error one rclone line reports, or undefined. `object` is the JSON line's object, if any. */
export function matchPermanentError(line: string, object?: string): PermanentError | undefined {
  const rule = PERMANENT_RULES.find((r) => r.pattern.test(line));
  if (rule === undefined) return undefined;
  const subject = rule.kind === 'permission' ? deniedPath(line, object) : remoteName(line);
  return { kind: rule.kind, subject, line };
}

/** Add `found` unless the same kind and subject is already listed (rclone repeats a failing copy per retry). */
export function addPermanentError(list: PermanentError[], found: PermanentError): void {
  if (list.length >= MAX_PERMANENT_ERRORS) return;
  if (list.some((e) => e.kind === found.kind && (e.subject === found.subject || found.subject === ''))) return;
  // A line that names the subject replaces one of the same kind that did not.
  const unnamed = list.findIndex((e) => e.kind === found.kind && e.subject === '');
  if (unnamed >= 0) list.splice(unnamed, 1, found);
  else list.push(found);
}

export interface PermanentFailure {
  message: string;
  hint: string;
  errorText: string;
}

function quoteList(items: readonly string[]): string {
  const shown = items.slice(0, 3).join(', ');
  return items.length > 3 ? `${shown} and ${items.length - 3} more` : shown;
}

/**
 * What to tell the user about the permanent errors of one run (the first kind found decides), or undefined when
 * there are none. `filesCopied` is how many files the run still copied (rclone syncs around an unreadable file where
 * it can); `mustResync` is rclone's own `Must run --resync`.
 */
export function describePermanentFailure(errors: readonly PermanentError[], filesCopied: number, mustResync: boolean): PermanentFailure | undefined {
  const first = errors[0];
  if (first === undefined) return undefined;
  const same = errors.filter((e) => e.kind === first.kind);
  const subjects = [...new Set(same.map((e) => e.subject).filter((s) => s !== ''))];
  const remote = subjects[0] ?? '';
  const remoteText = remote === '' ? 'the remote' : `the remote "${remote}"`;
  switch (first.kind) {
    case 'missing-remote':
      return {
        message: `${remoteText} is not in rclone's config file; nothing was changed`,
        hint: `Create it with rclone config (as the user the service runs as), or correct rclone_remote of job JOB. rclone reads the file RCLONE_CONFIG names, else ~/.config/rclone/rclone.conf. Then run rbmctl sync JOB.`,
        errorText: first.line,
      };
    case 'auth':
      return {
        message: `${remoteText} refused the login; nothing was changed`,
        hint: `Fix the credentials with rclone config${remote === '' ? '' : ` (rclone config update ${remote} for a password, rclone config reconnect ${remote}: for a token)`}, then run rbmctl sync JOB.`,
        errorText: first.line,
      };
    case 'permission': {
      const where = subjects.length > 0 ? `: ${quoteList(subjects)}` : '';
      const rest = filesCopied > 0 ? `; the other changes were synced (${filesCopied} file${filesCopied === 1 ? '' : 's'} copied)` : '; the run stopped before changing anything';
      const resync = mustResync ? ' The next run recovers the listings where rclone can (or asks for rbmctl sync JOB --resync where it cannot).' : '';
      return {
        message: `permission denied${where}${rest}`,
        hint: `Give the user the service runs as access (chmod/chown), or exclude the path with a rule in the job's filters_file; then run rbmctl sync JOB.${resync}`,
        errorText: first.line,
      };
    }
  }
}
