// rbmctl sync [JOB...] [--wait]: queue runs, optionally follow them to their outcome with a
// live progress line per job (subscribed to the signals before the Sync call, so no outcome can be missed).

import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import type { ManagerSignal, RbmClient, RunView, SyncOptions } from '../../dbus/client.js';
import type { Ctx, ServiceLocation, TextSink } from '../context.js';
import { formatOutcome, formatProgress } from '../format.js';
import { errorText, worstExitCode } from '../../errors.js';
import { exitCodeForResult } from '../outcomes.js';
import { RBMCTL_RUN_ARGUMENTS, parseSyncRequest } from '../../api/requests.js';

/** Non-terminal output gets a progress line per job at most this often. */
const PLAIN_PROGRESS_EVERY_MS = 5000;
/** Exit code when the user stops waiting (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

export interface SyncArgs {
  jobs: readonly string[];
  resync: boolean;
  forceBisync: boolean;
  wait: boolean;
  standalone: boolean;
  /** Wait for the job's run conditions (metered, battery, window) like a scheduled run. */
  respectConditions?: boolean;
}

/** Lines that redraw in place on a terminal; elsewhere, throttled plain lines. */
function createLiveLines(sink: TextSink, now: () => number) {
  const tty = sink.isTTY === true;
  const lines = new Map<string, string>();
  const lastPlain = new Map<string, number>();
  let drawn = 0;
  const clear = (): string => (drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '');
  const block = (): string => {
    drawn = lines.size;
    return [...lines.values()].map((l) => `${l}\n`).join('');
  };
  return {
    update(job: string, text: string): void {
      if (tty) {
        lines.set(job, text);
        sink.write(clear() + block());
        return;
      }
      const last = lastPlain.get(job);
      if (last !== undefined && now() - last < PLAIN_PROGRESS_EVERY_MS) return;
      lastPlain.set(job, now());
      sink.write(`${text}\n`);
    },
    /** Replace the job's live line by its permanent outcome. */
    finish(text: string, job: string): void {
      lines.delete(job);
      sink.write(tty ? `${clear()}${text}\n${block()}` : `${text}\n`);
    },
    close(): void {
      if (tty && drawn > 0) sink.write(clear());
      lines.clear();
      drawn = 0;
    },
  };
}

interface Finished {
  job: string;
  runId: bigint;
  result: string;
  details: RunView;
}

/**
 * Queue runs and wait for every JobFinished; returns the most serious exit code of the results. `queue` replaces the
 * Sync call (rbmctl approve queues with Approve); it runs after the subscription, like Sync. Ctrl-C stops waiting on
 * the service's runs, but cancels runs `where` they run in this process (standalone), and waits for their outcome.
 */
export async function syncAndWait(ctx: Ctx, client: RbmClient, jobs: readonly string[], options: SyncOptions, queue?: () => Promise<bigint[]>, where: ServiceLocation = 'service'): Promise<number> {
  const live = createLiveLines(ctx.io.stdout, () => ctx.deps.now());
  const quiet = ctx.args.json;
  const finished = new Map<bigint, Finished>();
  const printed = new Set<bigint>();
  let ids: bigint[] | undefined;
  let settle: (value: RbmError | 'done' | 'interrupted') => void = () => undefined;
  const outcome = new Promise<RbmError | 'done' | 'interrupted'>((resolve) => (settle = resolve));

  const ours = (runId: bigint): boolean => ids === undefined || ids.includes(runId);
  const show = (f: Finished): void => {
    if (printed.has(f.runId) || quiet) return;
    printed.add(f.runId);
    live.finish(formatOutcome(f.job, f.runId, f.result, f.details), f.job);
  };
  const check = (): void => {
    if (ids && ids.every((id) => finished.has(id))) settle('done');
  };
  const onSignal = (s: ManagerSignal): void => {
    switch (s.kind) {
      case 'job-started':
        if (ours(s.runId) && !quiet) live.update(s.job, `${s.job}: ${s.operation} started (run ${s.runId})`);
        break;
      case 'job-progress':
        if (ours(s.runId) && !quiet) live.update(s.job, `${s.job}: ${formatProgress(s.progress)}`);
        break;
      case 'job-finished':
        finished.set(s.runId, { job: s.job, runId: s.runId, result: s.result, details: s.details });
        if (ids?.includes(s.runId)) show(finished.get(s.runId)!);
        check();
        break;
      case 'service-gone':
      case 'bus-lost':
        settle(new RbmError('ServiceUnavailable', 'the service stopped before the runs finished', { hint: 'rbmctl history shows what happened once it runs again.' }));
        break;
      case 'config-reloaded':
      case 'properties-changed':
      case 'job-added':
      case 'job-removed':
        break;
    }
  };

  if (where === 'standalone' && ctx.deps.abort?.aborted === true) {
    // Ctrl-C while the service was being built in this process: nothing is started.
    throw new RbmError('Cancelled', 'interrupted before any run started; nothing ran');
  }
  const unsubscribe = await client.subscribe(onSignal);
  const onAbort = (): void => {
    // Runs in this process must not outlive it: they are cancelled safely and their outcome (cancelled) is shown.
    if (where === 'standalone') client.cancel([]).catch((e: unknown) => settle(e instanceof RbmError ? e : new RbmError('Internal', errorText(e))));
    else settle('interrupted');
  };
  ctx.deps.abort?.addEventListener('abort', onAbort);
  try {
    ids = queue ? await queue() : await client.sync(jobs, options);
    if (ctx.deps.abort?.aborted === true) onAbort();
    if (ids.length === 0) {
      if (!quiet) ctx.out('No active jobs to sync.');
      else ctx.json([]);
      return 0;
    }
    for (const id of ids) {
      const f = finished.get(id);
      if (f) show(f);
    }
    check();
    const end = await outcome;
    live.close();
    if (end === 'interrupted') {
      ctx.err(`rbmctl: stopped waiting; the runs continue in the service (run ids ${ids.join(', ')})`);
      return EXIT_INTERRUPTED;
    }
    if (end instanceof RbmError) throw end;
    const results = ids.map((id) => finished.get(id)!);
    if (quiet) ctx.json(results.map((f) => ({ job: f.job, run_id: f.runId, result: f.result, exit_code: exitCodeForResult(f.result), details: f.details })));
    return worstExitCode(results.map((f) => exitCodeForResult(f.result)));
  } finally {
    live.close();
    ctx.deps.abort?.removeEventListener('abort', onAbort);
    unsubscribe();
  }
}

/** Printed when `rbmctl sync` finds no service: the runs happen in this process. */
const SYNC_STANDALONE_NOTE = 'rbmctl: the service is not running; syncing once in this process';

export async function syncCommand(ctx: Ctx, a: SyncArgs): Promise<number> {
  const respectConditions = a.respectConditions === true;
  parseSyncRequest(a.jobs, { resync: a.resync, force: a.forceBisync, dryRun: ctx.args.dryRun, respectConditions }, RBMCTL_RUN_ARGUMENTS);
  const options: SyncOptions = { resync: a.resync, force: a.forceBisync, dryRun: ctx.args.dryRun, ...(respectConditions ? { respectConditions } : {}) };
  return ctx.withClientOrStandalone(
    async (client, where) => {
      // In this process the runs end with rbmctl, so it always waits for them.
      if (a.wait || where === 'standalone') return syncAndWait(ctx, client, a.jobs, options, undefined, where);
      const ids = await client.sync(a.jobs, options);
      if (ctx.args.json) ctx.json({ run_ids: ids });
      else if (ids.length === 0) ctx.out('No active jobs to sync.');
      else ctx.out(`queued: ${ids.map((id, i) => (a.jobs[i] ? `${a.jobs[i]} (run ${id})` : `run ${id}`)).join(', ')}`);
      return 0;
    },
    { use: 'act', mode: 'act', note: SYNC_STANDALONE_NOTE, standalone: a.standalone },
  );
}

export function syncBuilder<T>(y: Argv<T>) {
  return y
    .positional('jobs', { type: 'string', array: true, default: [] as string[], describe: 'Jobs to sync (default: every active job)' })
    .option('resync', { type: 'boolean', default: false, describe: 'Run as --resync (rebuild the listings; needed after a lockout)' })
    .option('force-bisync', { type: 'boolean', default: false, describe: 'Run the named jobs with --force once, without showing the deletes (rbmctl approve shows them first)' })
    .option('wait', { alias: 'w', type: 'boolean', default: false, describe: 'Follow the runs with live progress and exit with their outcome' })
    .option('standalone', { type: 'boolean', default: false, describe: 'Run once in this process, without the service' })
    .option('respect-conditions', { type: 'boolean', default: false, describe: "Wait for the job's run conditions (metered, battery, time window) like a scheduled run" });
}
