// Incremental parser of rclone bisync output (JSON lines from 1.60 and 1.75, plus plain-text lines)
// into a bounded summary the classifier reads. Pure: no processes, no clock; memory is capped.

import { addPermanentError, matchPermanentError, type PermanentError } from './permanent-errors.js';
import type { Conflict, Progress } from '../run/types.js';

export const TAIL_LINES = 50;
export const MAX_LIST_ENTRIES = 1000;
const MAX_ERROR_LINES = 20;
const MAX_MESSAGE_CHARS = 16 * 1024;
/** Queued copies remembered per batch (the transfer journal's bound). */
export const MAX_QUEUED_COPIES = 20_000;
// tmpfs and other filesystems with fallocate say `preallocate: file too big for remaining disk space`.
const NO_SPACE = /no space left on device|file too big for remaining disk space|disk quota exceeded/i;

export type SafetyAbort = 'too-many-deletes' | 'all-files-changed';

export interface FinalStats {
  bytes: number;
  transfers: number;
  deletes: number;
  renames: number;
  errors: number;
  checks: number;
}

/** What one rclone run printed, reduced to the facts the engine acts on. */
export interface OutputSummary {
  /** `Bisync successful` was printed. */
  success: boolean;
  conflicts: Conflict[];
  safetyAbort: SafetyAbort | undefined;
  /** The safety-abort line as printed (`too many deletes (>50%, 3 of 4) on Path1 …`). */
  safetyAbortText: string;
  /** `Must run --resync` (1.60 lockout, or 1.75 without --resilient). */
  mustResync: boolean;
  /** `cannot find prior Path1 or Path2 listings`: no trusted listings at all. */
  missingListings: boolean;
  /** `Empty prior/current PathN listing`: a side is empty. */
  emptyListing: boolean;
  /** 1.75 --resilient: `Error is retryable without --resync`. */
  retryableWithoutResync: boolean;
  /** Text after `Bisync critical error:`, '' when none. */
  criticalError: string;
  /** Path of the lock file from `prior lock file found: <path>`, undefined when none. */
  lockFile: string | undefined;
  checkAccessFailed: boolean;
  filtersChanged: boolean;
  /** `hash unexpectedly blank` warnings. */
  hashBlank: number;
  /** First line that says the remote could not be reached, '' when none. */
  remoteUnreachable: string;
  /** Errors no retry fixes (missing remote, refused login, permission denied), deduplicated and bounded. */
  permanentErrors: PermanentError[];
  /** `--recover` restored the backup listings. */
  recovered: boolean;
  /** `Bisync interrupted` (1.60 after a signal) or 1.75 graceful shutdown lines. */
  interrupted: boolean;
  gracefulShutdown: boolean;
  /** `unknown flag: --x` (rclone too old for a flag we passed). */
  unknownFlag: string;
  /** Closing `Failed to bisync: …` text, '' when none. */
  failure: string;
  /** Full paths from `Queue delete` lines (what a run deletes; from a --dry-run, what it would delete). */
  queuedDeletes: string[];
  /** `File was deleted` lines: which side lost which file (relative path). */
  deletedFiles: { side: 'Path1' | 'Path2'; path: string }[];
  /** Totals of the last stats line, undefined when none was printed. */
  stats: FinalStats | undefined;
  /** ERROR/CRITICAL messages (bounded). */
  errors: string[];
  /** Last lines, as `LEVEL: message`. */
  tail: string[];
  /** A write failed for lack of space: on which side (the copies' destination), and the line; undefined when none. */
  noSpace: NoSpace | undefined;
}

export type Side = 'Path1' | 'Path2';

export interface NoSpace {
  /** Destination of the copies under way when it happened; undefined when the output did not say. */
  side: Side | undefined;
  text: string;
}

/** The copies rclone queued towards one side, announced when it starts them (`Do queued copies to - PathN`). */
export interface CopyBatch {
  to: Side;
  /** Full destination paths as rclone printed them (`<root>/<relative path>`). */
  paths: string[];
  /** More were queued than MAX_QUEUED_COPIES. */
  overflow: boolean;
}

/** One decoded rclone message. */
export interface RcloneMessage {
  level: 'debug' | 'info' | 'notice' | 'error';
  text: string;
  object: string | undefined;
  stats: Record<string, unknown> | undefined;
}

export interface OutputParser {
  /** Feed one output line (stdout or stderr, without newline). */
  push(line: string): void;
  /** Flush pending multi-line text and return the summary (can be called more than once). */
  summary(): OutputSummary;
}

export interface OutputParserOptions {
  onProgress?: (progress: Progress) => void;
  /** Every decoded message, for logging rclone's own lines. */
  onMessage?: (message: RcloneMessage) => void;
  /** rclone starts the copies it queued towards one side (the files in transfer from now on). */
  onCopyBatch?: (batch: CopyBatch) => void;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
// `2026/11/26 06:54:39 NOTICE: text` or `2026/11/26 06:54:39 text`
const TEXT_PREFIX = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? (?:(DEBUG|INFO|NOTICE|ERROR|CRITICAL|EMERGENCY|ALERT|WARNING)\s*: ?)?(.*)$/;
// `- Path1   Renaming Path1 copy   - /full/path`
const DELTA_LINE = /^-\s+(Path1|Path2|WARNING)?\s*(.*?)\s+- (.*)$/;

/** One of bisync's delta lines (`- Path1    Queue copy to Path2    - <path>`, 1.60 and 1.75 alike): its side, action and subject. */
export interface DeltaLine {
  side: 'Path1' | 'Path2' | 'WARNING' | undefined;
  action: string;
  subject: string;
}

/** The delta line in `line` (trimmed, colours removed), or undefined for any other line. */
export function parseDeltaLine(line: string): DeltaLine | undefined {
  const m = DELTA_LINE.exec(line);
  if (!m) return undefined;
  return { side: m[1] as DeltaLine['side'], action: m[2] ?? '', subject: m[3] ?? '' };
}
const UNREACHABLE = [
  /Failed to create file system/i,
  /connection refused/i,
  /couldn't connect/i,
  /no such host/i,
  /network is unreachable/i,
  /i\/o timeout/i,
  /connection reset by peer/i,
  /connection lost/i,
  /no route to host/i,
  /TLS handshake timeout/i,
];

function normalLevel(level: unknown): RcloneMessage['level'] {
  switch (typeof level === 'string' ? level.toLowerCase() : '') {
    case 'debug':
      return 'debug';
    case 'info':
      return 'info';
    case 'error':
    case 'critical':
    case 'alert':
    case 'emergency':
      return 'error';
    default:
      return 'notice'; // notice, and 1.60's "warning" (its NOTICE)
  }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function pushBounded<T>(list: T[], item: T, max = MAX_LIST_ENTRIES): void {
  if (list.length < max) list.push(item);
}

/** Decode one JSON log line; undefined when the line is not rclone JSON. */
export function decodeJsonLine(line: string): RcloneMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('msg' in parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const text = typeof record.msg === 'string' ? record.msg.replace(ANSI, '') : '';
  const stats = typeof record.stats === 'object' && record.stats !== null ? (record.stats as Record<string, unknown>) : undefined;
  return {
    level: normalLevel(record.level),
    text,
    object: typeof record.object === 'string' ? record.object.replace(ANSI, '') : undefined,
    stats,
  };
}

export function progressFromStats(stats: Record<string, unknown>): Progress {
  const eta = stats.eta;
  return {
    bytes: num(stats.bytes),
    totalBytes: num(stats.totalBytes),
    transfers: num(stats.transfers),
    totalTransfers: num(stats.totalTransfers),
    speed: num(stats.speed),
    etaSec: typeof eta === 'number' && Number.isFinite(eta) ? eta : null,
  };
}

export function emptySummary(): OutputSummary {
  return {
    success: false,
    conflicts: [],
    safetyAbort: undefined,
    safetyAbortText: '',
    mustResync: false,
    missingListings: false,
    emptyListing: false,
    retryableWithoutResync: false,
    criticalError: '',
    lockFile: undefined,
    checkAccessFailed: false,
    filtersChanged: false,
    hashBlank: 0,
    remoteUnreachable: '',
    permanentErrors: [],
    recovered: false,
    interrupted: false,
    gracefulShutdown: false,
    unknownFlag: '',
    failure: '',
    queuedDeletes: [],
    deletedFiles: [],
    stats: undefined,
    errors: [],
    tail: [],
    noSpace: undefined,
  };
}

export function createOutputParser(options: OutputParserOptions = {}): OutputParser {
  const s = emptySummary();
  /** Plain-text message still collecting untimestamped continuation lines (`Tip:` blocks). */
  let pending: { level: RcloneMessage['level']; text: string } | undefined;
  /** The conflict whose NOTICE triplet is being read. */
  let currentConflict: Conflict | undefined;
  /** Copies queued since the last `Do queued copies` line, per destination side. */
  const queued: Record<Side, { paths: string[]; overflow: boolean }> = { Path1: { paths: [], overflow: false }, Path2: { paths: [], overflow: false } };
  /** Destination of the copies rclone is doing now. */
  let copyingTo: Side | undefined;

  function addTail(entry: string): void {
    s.tail.push(entry.length > 2000 ? entry.slice(0, 2000) + '…' : entry);
    if (s.tail.length > TAIL_LINES) s.tail.shift();
  }

  function analyse(message: RcloneMessage): void {
    options.onMessage?.(message);
    const { text, level } = message;
    const firstLine = text.split('\n', 1)[0]?.trim() ?? '';
    if (message.stats) {
      const st = message.stats;
      s.stats = {
        bytes: num(st.bytes),
        transfers: num(st.transfers),
        deletes: num(st.deletes),
        renames: num(st.renames),
        errors: num(st.errors),
        checks: num(st.checks),
      };
      options.onProgress?.(progressFromStats(st));
      return; // the stats text block is noise in the tail
    }
    addTail(`${level.toUpperCase()}: ${text.trim()}`);
    if (level === 'error') pushBounded(s.errors, firstLine, MAX_ERROR_LINES);

    if (/\bBisync successful\b/.test(text)) s.success = true;
    if (/Must run --resync/.test(text)) s.mustResync = true;
    if (/cannot find prior Path1 or Path2 listings/.test(text)) s.missingListings = true;
    if (/Empty (?:prior|current) Path[12] listing/i.test(text)) s.emptyListing = true;
    if (/retryable without --resync/.test(text)) s.retryableWithoutResync = true;
    const critical = /Bisync critical error: (.*)/.exec(firstLine);
    if (critical?.[1] !== undefined && s.criticalError === '') s.criticalError = critical[1].trim();
    const lock = /prior lock file found: (.+?)\s*$/.exec(firstLine);
    if (lock?.[1] !== undefined) s.lockFile = lock[1];
    if (/Access test failed|check file check failed/.test(text)) s.checkAccessFailed = true;
    if (/filters file has changed|filters file md5 hash not found/.test(text)) s.filtersChanged = true;
    if (/hash unexpectedly blank/.test(text)) s.hashBlank += 1;
    if (s.remoteUnreachable === '' && UNREACHABLE.some((re) => re.test(firstLine))) s.remoteUnreachable = firstLine;
    if (level === 'error' || /^(?:Failed to|Received error)/.test(firstLine)) {
      // Only an ERROR line's object is a file; a NOTICE's object can be a queue name (`copy1to2`).
      const permanent = matchPermanentError(firstLine, level === 'error' ? message.object : undefined);
      if (permanent) addPermanentError(s.permanentErrors, permanent);
    }
    if (/Reverting to prior backup as --recover is set/.test(text)) s.recovered = true;
    if (/Bisync interrupted/.test(text)) s.interrupted = true;
    if (/Attempting to gracefully shutdown|Graceful shutdown completed/.test(text)) s.gracefulShutdown = true;
    const unknown = /unknown (?:flag|shorthand flag): (.*)/.exec(firstLine);
    if (unknown?.[1] !== undefined) s.unknownFlag = unknown[1].trim();
    if (s.noSpace === undefined && NO_SPACE.test(firstLine)) s.noSpace = { side: copyingTo, text: message.object !== undefined ? `${message.object}: ${firstLine}` : firstLine };
    const failed = /^Failed to bisync(?: with \d+ errors?)?: (.*)/.exec(firstLine);
    if (failed?.[1] !== undefined) s.failure = failed[1].trim();

    // Safety aborts: 1.60 and 1.75 JSON split `"object":"Safety abort","msg":"too many deletes …"`; text mode keeps `Safety abort: …`.
    const abortText = message.object === 'Safety abort' ? firstLine : (/Safety abort: (.*)/.exec(firstLine)?.[1] ?? '');
    if (abortText !== '') {
      s.safetyAbortText = abortText;
      if (/too many deletes/.test(abortText)) s.safetyAbort = 'too-many-deletes';
      else if (/all files were changed/.test(abortText)) s.safetyAbort = 'all-files-changed';
    } else if (s.safetyAbort === undefined && /^(?:Failed to bisync: )?(too many deletes|all files were changed)$/.test(firstLine)) {
      s.safetyAbort = /too many/.test(firstLine) ? 'too-many-deletes' : 'all-files-changed';
    }

    // Conflicts: `WARNING New or changed in both paths - f`, then one line per side (renamed, kept as winner, or deleted).
    const equal = /^Files are equal! Skipping: (.*)$/.exec(firstLine);
    if (equal?.[1] !== undefined) {
      const name = equal[1];
      const index = s.conflicts.findIndex((c) => c.path === name);
      if (index >= 0) s.conflicts.splice(index, 1);
      if (currentConflict?.path === name) currentConflict = undefined;
      return;
    }
    const delta = parseDeltaLine(firstLine);
    if (!delta) return;
    const { side, action, subject } = delta;
    if (side === 'WARNING' && /New or changed in both paths/.test(action)) {
      currentConflict = { path: subject, copies: [] };
      pushBounded(s.conflicts, currentConflict);
    } else if (/^Renaming Path[12] copy$/.test(action) && currentConflict) {
      pushBounded(currentConflict.copies, subject, 16);
    } else if (/^Queue copy to Path[12]$/.test(action)) {
      const q = queued[action.endsWith('1') ? 'Path1' : 'Path2'];
      if (q.paths.length < MAX_QUEUED_COPIES) q.paths.push(subject);
      else q.overflow = true;
    } else if (action === 'Do queued copies to' && (subject === 'Path1' || subject === 'Path2')) {
      copyingTo = subject;
      const q = queued[subject];
      options.onCopyBatch?.({ to: subject, paths: q.paths, overflow: q.overflow });
      queued[subject] = { paths: [], overflow: false };
    } else if (/^Queue delete$/.test(action)) {
      pushBounded(s.queuedDeletes, subject);
    } else if (/^File was deleted$/.test(action) && (side === 'Path1' || side === 'Path2')) {
      pushBounded(s.deletedFiles, { side, path: subject });
    }
  }

  function flushPending(): void {
    if (!pending) return;
    const message = pending;
    pending = undefined;
    analyse({ level: message.level, text: message.text, object: undefined, stats: undefined });
  }

  return {
    push(raw: string): void {
      const line = raw.replace(ANSI, '').replace(/\r$/, '');
      const json = decodeJsonLine(line);
      if (json) {
        flushPending();
        analyse(json);
        return;
      }
      if (line.trim() === '') return;
      const prefixed = TEXT_PREFIX.exec(line);
      if (prefixed) {
        flushPending();
        pending = { level: normalLevel(prefixed[1] ?? 'notice'), text: prefixed[2] ?? '' };
        return;
      }
      if (pending && pending.text.length < MAX_MESSAGE_CHARS) {
        pending.text += '\n' + line; // untimestamped continuation (Tip: blocks)
        return;
      }
      flushPending();
      // Usage errors (`Error: unknown flag: --recover`) and other bare lines.
      const level = /^(Error|Fatal)/i.test(line) ? 'error' : 'notice';
      pending = { level, text: line.replace(/^Error: /, '') };
    },
    summary(): OutputSummary {
      flushPending();
      return s;
    },
  };
}

/** Parse a whole captured log (fixtures, tests). Lines starting with `# ` are comments. */
export function parseOutput(text: string, options: OutputParserOptions = {}): OutputSummary {
  const parser = createOutputParser(options);
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) continue;
    parser.push(line);
  }
  return parser.summary();
}
