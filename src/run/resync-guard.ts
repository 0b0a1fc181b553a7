// Runs right before every real resync (any reason, any rclone version): compares both sides with `rclone check`,
// and for each file that differs keeps the losing version on its own side under a conflict name, then copies the
// winner across, so the resync finds nothing left to overwrite. The rules live in src/run/rules/resync-guard.ts.

import { constants, copyFileSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { hasFlag, rcloneOnlyFlags } from '../rclone/args.js';
import { classifyRun, type Classification } from './rules/classify.js';
import { createOutputParser, type OutputSummary } from '../rclone/output.js';
import {
  checkComplete,
  chooseWinner,
  CONFLICT_MARKER,
  conflictName,
  effectiveResyncMode,
  emptyCheckCounts,
  noteCheckMessage,
  parseCheckLine,
  sideLabel,
  type FileFacts,
  type KeptVersion,
  type Side,
} from './rules/resync-guard.js';
import type { ExitStatus } from '../ports.js';
import { FILE_MODE } from '../state/paths.js';
import { runHelperCommand, type HelperCommandDeps } from './helper-command.js';

export interface ResyncGuardInput {
  job: JobConfig;
  global: GlobalSettings;
  caps: RcloneCapabilities;
  /** The argv of the resync about to run: its filters and `--resync-mode` decide what is compared and who wins. */
  resyncArgv: readonly string[];
  dryRun: boolean;
  nowMs: number;
  /** A private directory for the guard's file lists (the job's state dir). */
  scratchDir: string;
  signal?: AbortSignal | undefined;
}

export type ResyncGuardDeps = HelperCommandDeps;

/** What stopped the resync from starting, shaped like a run attempt so the runner records it like one. */
export interface GuardStop {
  exit: ExitStatus;
  summary: OutputSummary;
  cancelled: boolean;
  classification: Classification;
}

export type ResyncGuardResult = { ok: true; kept: KeptVersion[] } | { ok: false; kept: KeptVersion[]; stop: GuardStop };

// Flags of the resync's argv that choose files: the comparison must see exactly the files the resync will touch.
const FILTER_FLAGS = ['--filter', '--filter-from', '--exclude', '--exclude-from', '--include', '--include-from', '--exclude-if-present', '--min-size', '--max-size', '--min-age', '--max-age', '--files-from', '--files-from-raw'];

function isFilterFlag(arg: string): boolean {
  return arg === '--ignore-case' || FILTER_FLAGS.some((f) => arg.startsWith(`${f}=`));
}

/** The resync's file selection as flags for `rclone check` (bisync's --filters-file is an rclone filter file). */
export function selectionFlags(resyncArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of resyncArgv) {
    if (arg.startsWith('--filters-file=')) out.push(`--filter-from=${arg.slice('--filters-file='.length)}`);
    else if (isFilterFlag(arg)) out.push(arg);
  }
  return out;
}

interface Ran {
  exit: ExitStatus;
  summary: OutputSummary;
  cancelled: boolean;
  /** stderr lines that are not check's own difference reports (bounded). */
  errors: string[];
}

function joinRoot(root: string, rel: string): string {
  return root.endsWith('/') || root.endsWith(':') ? root + rel : `${root}/${rel}`;
}

function isLocal(root: string): boolean {
  return root.startsWith('/');
}

// check prints one ERROR line per difference; they are its result, not errors of the comparison.
const DIFFERENCE_REPORT = /: (sizes differ|\w+ differ|file not in .*)$|No common hash found|differences found|errors while checking|files missing|Failed to check with/;

export function createResyncGuard(deps: ResyncGuardDeps) {
  function rclone(input: ResyncGuardInput, args: string[], onStdout?: (line: string) => void, onStderr?: (line: string) => void): Promise<Ran> {
    const parser = createOutputParser();
    const errors: string[] = [];
    // check, lsjson and copy hold no bisync state: a plain SIGTERM (the helper's default) is a safe stop.
    return runHelperCommand({
      spawner: deps.spawner,
      binary: input.global.rcloneBinary,
      args,
      env: deps.env,
      spawnOptions: deps.spawnOptions,
      signal: input.signal,
      onLine: (line, stream) => {
        if (stream === 'stdout') {
          onStdout?.(line);
          return;
        }
        parser.push(line);
        onStderr?.(line);
        if (/\b(ERROR|CRITICAL)\b|Failed to/.test(line) && !DIFFERENCE_REPORT.test(line) && errors.length < 20) errors.push(line.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? /, ''));
      },
    }).then(({ exit, stopped }) => ({ exit, summary: parser.summary(), cancelled: stopped, errors }));
  }

  function baseFlags(input: ResyncGuardInput): string[] {
    const flags = rcloneOnlyFlags(input.job, input.global).filter((a) => !isFilterFlag(a));
    if (hasFlag(input.caps, 'color')) flags.push('--color=NEVER');
    return flags;
  }

  function stopWith(input: ResyncGuardInput, ran: Ran, kept: KeptVersion[], what: string): ResyncGuardResult {
    const { job } = input;
    const base = classifyRun(ran.exit, ran.summary, { operation: 'resync', dryRun: false, cancelled: ran.cancelled });
    const cause = ran.summary.remoteUnreachable || ran.errors[0] || ran.summary.failure || `exit ${ran.exit.code ?? ran.exit.signal ?? ''}`;
    let classification: Classification;
    if (ran.cancelled) classification = base;
    // Retryable keeps the usual wording ("the remote could not be reached; nothing was changed") and says what stopped.
    else if (base.outcome === 'retryable') classification = { ...base, message: `${base.message} (the resync was not started: ${what} failed)`, errorText: cause };
    else {
      classification = {
        ...base,
        outcome: 'failed',
        retryable: false,
        followUp: 'none',
        lockout: false,
        message: `the resync was not started: ${what} failed (${cause}); nothing was overwritten`,
        hint: `Fix the cause, then run rbmctl sync ${job.name} again: the resync runs once every file that differs between the sides has been kept.`,
        errorText: cause,
      };
    }
    deps.logger.warn(classification.message, { job: job.name });
    return { ok: false, kept, stop: { exit: ran.exit, summary: ran.summary, cancelled: ran.cancelled, classification } };
  }

  /** `rclone check` of both sides: the paths that differ, and every conflict name already in use. */
  async function compare(input: ResyncGuardInput, download: boolean): Promise<{ ran: Ran; complete: boolean; noCommonHash: boolean; differing: string[]; taken: Set<string> }> {
    const { job } = input;
    const differing: string[] = [];
    const taken = new Set<string>();
    const counts = emptyCheckCounts();
    let errorLines = 0;
    const args = ['check', job.local, job.path2, '--combined=-', ...selectionFlags(input.resyncArgv), ...baseFlags(input)];
    if (download) args.push('--download');
    const ran = await rclone(input, args, (line) => {
      const entry = parseCheckLine(line);
      if (!entry) return;
      if (entry.kind === '*') differing.push(entry.path);
      else if (entry.kind === '!') errorLines++;
      if (entry.path.includes(CONFLICT_MARKER)) taken.add(entry.path);
    }, (line) => noteCheckMessage(counts, line));
    return { ran, complete: !ran.cancelled && checkComplete(ran.exit.code, counts, errorLines), noCommonHash: counts.noCommonHash, differing, taken };
  }

  /** Size and modtime of `paths` on one side (`rclone lsjson --files-from-raw`: names are taken byte for byte). */
  async function facts(input: ResyncGuardInput, root: string, listFile: string): Promise<{ ran: Ran; facts: Map<string, FileFacts> }> {
    const found = new Map<string, FileFacts>();
    const ran = await rclone(input, ['lsjson', '-R', '--files-only', '--no-mimetype', `--files-from-raw=${listFile}`, root, ...baseFlags(input)], (line) => {
      const text = line.trim().replace(/,$/, '');
      if (!text.startsWith('{')) return;
      try {
        const item = JSON.parse(text) as { Path?: unknown; Size?: unknown; ModTime?: unknown };
        if (typeof item.Path !== 'string') return;
        found.set(item.Path, { size: typeof item.Size === 'number' ? item.Size : -1, modTimeMs: typeof item.ModTime === 'string' ? Date.parse(item.ModTime) : Number.NaN });
      } catch {
        // a line that is not an entry: ignore
      }
    });
    return { ran, facts: found };
  }

  /** Keeps the loser under its conflict name on its own side (a local copy keeps the modtime; a remote copy is server-side where the backend can). */
  async function keepLoser(input: ResyncGuardInput, root: string, k: KeptVersion): Promise<Ran | undefined> {
    if (isLocal(root)) {
      const from = join(root, k.path);
      const to = join(root, k.copy);
      try {
        const st = statSync(from);
        copyFileSync(from, to, constants.COPYFILE_EXCL);
        utimesSync(to, st.atime, st.mtime);
        return undefined;
      } catch (e: unknown) {
        const text = e instanceof Error ? e.message : String(e);
        return { exit: { code: 1, signal: null }, summary: createOutputParser().summary(), cancelled: false, errors: [text] };
      }
    }
    const ran = await rclone(input, ['copyto', joinRoot(root, k.path), joinRoot(root, k.copy), ...baseFlags(input)]);
    return ran.exit.code === 0 && !ran.cancelled ? undefined : ran;
  }

  return {
    async guard(input: ResyncGuardInput): Promise<ResyncGuardResult> {
      const { job } = input;
      const log = deps.logger;
      let cmp = await compare(input, false);
      if (cmp.complete && cmp.noCommonHash) {
        // Without a common hash, check compares sizes only, and a same-size edit would go unseen: compare content.
        log.warn('no hash type common to both sides: comparing file contents before the resync (this downloads the remote files)', { job: job.name });
        cmp = await compare(input, true);
      }
      if (!cmp.complete) return stopWith(input, cmp.ran, [], 'comparing both sides');
      if (cmp.differing.length === 0) return { ok: true, kept: [] };

      mkdirSync(input.scratchDir, { recursive: true, mode: 0o700 });
      const listFile = join(input.scratchDir, 'resync-guard.list');
      writeFileSync(listFile, cmp.differing.map((p) => `${p}\n`).join(''), { mode: FILE_MODE });
      const side1 = await facts(input, job.local, listFile);
      if (side1.ran.exit.code !== 0 || side1.ran.cancelled) return stopWith(input, side1.ran, [], 'listing the differing files on the local side');
      const side2 = await facts(input, job.path2, listFile);
      if (side2.ran.exit.code !== 0 || side2.ran.cancelled) return stopWith(input, side2.ran, [], 'listing the differing files on the remote side');

      const mode = effectiveResyncMode(input.resyncArgv, input.caps);
      const kept: KeptVersion[] = [];
      for (const path of cmp.differing) {
        const f1 = side1.facts.get(path);
        const f2 = side2.facts.get(path);
        if (!f1 || !f2) {
          log.warn('a file that differed is gone from one side since the comparison; the resync copies it as a new file', { job: job.name, path });
          continue;
        }
        const verdict = chooseWinner(f1, f2, mode);
        const loser: Side = verdict.winner === 'path1' ? 'path2' : 'path1';
        const copy = conflictName(path, loser, input.nowMs, cmp.taken);
        cmp.taken.add(copy);
        kept.push({ path, winner: verdict.winner, copy, why: verdict.why });
      }
      if (input.dryRun || kept.length === 0) return { ok: true, kept };

      const done: KeptVersion[] = [];
      for (const k of kept) {
        const loserRoot = k.winner === 'path1' ? job.path2 : job.local;
        const failed = await keepLoser(input, loserRoot, k);
        if (failed) return stopWith(input, failed, done, `keeping the ${sideLabel(k.winner === 'path1' ? 'path2' : 'path1')} version of ${k.path}`);
        done.push(k);
        log.info('kept the losing version before the resync', { job: job.name, path: k.path, copy: k.copy, winner: sideLabel(k.winner), why: k.why });
      }
      // The winners are copied across now, so the resync finds identical files and its own preference never matters.
      for (const winner of ['path1', 'path2'] as const) {
        const names = kept.filter((k) => k.winner === winner).map((k) => `${k.path}\n`);
        if (names.length === 0) continue;
        const winnersFile = join(input.scratchDir, `resync-guard.${winner}.list`);
        writeFileSync(winnersFile, names.join(''), { mode: FILE_MODE });
        const [from, to] = winner === 'path1' ? [job.local, job.path2] : [job.path2, job.local];
        const ran = await rclone(input, ['copy', from, to, `--files-from-raw=${winnersFile}`, '--ignore-times', '--no-traverse', ...baseFlags(input)]);
        if (ran.exit.code !== 0 || ran.cancelled) return stopWith(input, ran, done, `copying the ${sideLabel(winner)} versions across`);
      }
      return { ok: true, kept };
    },
  };
}
