// One `rclone bisync` attempt: spawned with the run's environment and priority, its output parsed and streamed
// (progress, messages, copy batches), stopped the way its version needs (rules/stop-policy.ts), always reaped.

import type { PendingOverwrite } from './rules/approval.js';
import { createPreviewReader } from './rules/preview.js';
import { pendingDeletesArgv } from '../rclone/args.js';
import { createOutputParser, emptySummary, type OutputSummary, type RcloneMessage } from '../rclone/output.js';
import { stopPolicyFor } from './rules/stop-policy.js';
import type { JobConfig } from '../config/types.js';
import type { Child, ExitStatus, Logger } from '../ports.js';
import { attachCpuLimit } from './cpulimit.js';
import type { RcloneContext, RunnerCore } from './run-context.js';

const PROGRESS_INTERVAL_MS = 250;

export interface Attempt {
  exit: ExitStatus;
  summary: OutputSummary;
  cancelled: boolean;
}

function logRcloneMessage(log: Logger, message: RcloneMessage): void {
  if (message.stats) return;
  const text = message.object !== undefined ? `${message.object}: ${message.text}` : message.text;
  if (message.level === 'error') log.warn(text.trim());
  else if (message.level === 'debug') log.debug(text.trim());
  else log.info(text.trim());
}

/** rclone's messages to the log (when the user asked for it) and to `onMessage`. */
function messageHookFor(ctx: RcloneContext, onMessage: ((message: RcloneMessage) => void) | undefined): ((message: RcloneMessage) => void) | undefined {
  const rcloneLog = ctx.log.child({ source: 'rclone' });
  const toLog = ctx.global.redirectRcloneLogOutput ? (m: RcloneMessage): void => logRcloneMessage(rcloneLog, m) : undefined;
  if (toLog && onMessage) {
    return (m: RcloneMessage): void => {
      toLog(m);
      onMessage(m);
    };
  }
  return toLog ?? onMessage;
}

/** Stops `child` once, by the policy for its rclone version; returns the pending SIGKILL timer to cancel at exit. */
function stopRclone(core: RunnerCore, ctx: RcloneContext, child: Child, limiter: Child | undefined): { cancel(): void } | undefined {
  limiter?.kill('SIGTERM'); // cpulimit sends SIGCONT on exit, so a paused rclone can handle the signal
  const policy = stopPolicyFor(ctx.caps, core.stopGraceMs);
  if (policy.signal === 'SIGKILL') {
    ctx.log.info(policy.logLine);
    child.kill('SIGKILL');
    return undefined;
  }
  // One SIGTERM only: a second signal defeats rclone's graceful shutdown.
  ctx.log.info(policy.logLine, { graceMs: policy.killAfterMs });
  child.kill('SIGTERM');
  return core.clock.setTimer(policy.killAfterMs, () => {
    ctx.log.warn('rclone did not stop in time; killing it');
    child.kill('SIGKILL');
  });
}

/** Runs rclone with `argv` to its end; the run's cancel stops it (the attempt is then `cancelled`). */
export function executeRclone(core: RunnerCore, argv: readonly string[], ctx: RcloneContext, onMessage?: (message: RcloneMessage) => void): Promise<Attempt> {
  const { global, log, hooks } = ctx;
  let lastProgressMs = 0;
  const messageHook = messageHookFor(ctx, onMessage);
  const parser = createOutputParser({
    onProgress: (progress) => {
      const now = core.clock.now();
      if (now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
      lastProgressMs = now;
      hooks.onProgress?.(progress);
    },
    ...(messageHook ? { onMessage: messageHook } : {}),
    ...(ctx.onCopyBatch ? { onCopyBatch: ctx.onCopyBatch } : {}),
  });
  if (hooks.signal?.aborted) return Promise.resolve({ exit: { code: null, signal: null }, summary: emptySummary(), cancelled: true });
  log.debug('starting rclone', { argv, secretEnv: [...ctx.secretEnv] }); // the names only
  const child: Child = ctx.spawner.spawn(global.rcloneBinary, argv, { env: ctx.env, onLine: (line) => parser.push(line), ...core.priorityOptions(global, log) });
  const limiter = attachCpuLimit(core.spawner, core.cpulimitPath, child.pid, global.maxCpuUsagePercent, log);
  let cancelled = false;
  let killTimer: { cancel(): void } | undefined;
  const stop = (): void => {
    if (cancelled) return;
    cancelled = true;
    killTimer = stopRclone(core, ctx, child, limiter);
  };
  hooks.signal?.addEventListener('abort', stop, { once: true });
  return child.exited.then(async (exit) => {
    hooks.signal?.removeEventListener('abort', stop);
    killTimer?.cancel();
    limiter?.kill('SIGTERM');
    // Reap cpulimit before the run ends: its last lines ("No process found") must not reach a closed logger.
    await limiter?.exited;
    return { exit, summary: parser.summary(), cancelled };
  });
}

/**
 * What the safety-aborted run would delete and overwrite, from `--dry-run --force` of the same argv. Every `Queue
 * delete` and `Queue copy` line is read (the summary keeps only the first MAX_LIST_ENTRIES); a copy is an overwrite
 * unless the preview shows the destination lacks that file (run/rules/preview.ts). `complete` is false when the
 * preview failed.
 */
export async function listPendingDeletes(core: RunnerCore, argv: readonly string[], job: JobConfig, summary: OutputSummary, ctx: RcloneContext): Promise<{ deletes: string[]; overwrites: PendingOverwrite[]; complete: boolean }> {
  const reader = createPreviewReader({ path1: job.local, path2: job.path2 });
  const dry = await executeRclone(core, pendingDeletesArgv(argv), ctx, (m) => reader.read(m));
  const { deletes: list, overwrites, unreadable } = reader.result();
  // An abort with none of its changes listed means the lines were not printed (a user log level above INFO): an
  // empty list would approve nothing yet let --force delete or overwrite everything, so such a preview never counts.
  const listed =
    summary.safetyAbort === 'too-many-deletes' ? list.length > 0 : summary.safetyAbort === 'all-files-changed' ? list.length + overwrites.length > 0 : true;
  const complete = dry.exit.code === 0 && !dry.cancelled && listed && unreadable === 0;
  if (list.length === 0) {
    // Fall back to the aborted run's own lines: a file deleted on one side would be deleted on the other.
    for (const d of summary.deletedFiles) {
      const other = d.side === 'Path1' ? job.path2 : job.local;
      list.push(other.endsWith('/') || other.endsWith(':') ? other + d.path : `${other}/${d.path}`);
    }
  }
  return { deletes: list, overwrites, complete };
}
