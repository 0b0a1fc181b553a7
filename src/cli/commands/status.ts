// rbmctl status [JOB] [--short] and rbmctl jobs: read-only views of the service. status exits
// EXIT_JOBS_NEED_ATTENTION (13) when a job it shows is not ok, so cron, monitoring and status bars can use it.
import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { formatJob, formatJobs, formatStatus } from '../format.js';
import { shortStatusLine, statusExitCode } from '../health-view.js';

/** Printed when status or history finds no service: they show what the state directory holds. */
export const READ_STANDALONE_NOTE = 'rbmctl: the service is not running; showing what its state directory holds';

export interface StatusOptions {
  /** One line for a status bar (its text says when the service is not running: no note on stderr). */
  short: boolean;
}

export async function statusCommand(ctx: Ctx, job: string | undefined, options: StatusOptions = { short: false }): Promise<number> {
  // Checked here, not by yargs: the yargs-free fast path gives the same answer (and --json has a default yargs counts).
  if (options.short && ctx.args.json) throw new RbmError('InvalidArgs', '--short prints one line of text: it does not go with --json', { hint: 'rbmctl status --json has every field.' });
  const note = options.short ? '' : READ_STANDALONE_NOTE;
  const { status, where } = await ctx.withClientOrStandalone(async (c, where) => ({ status: await c.status(), where }), { use: 'read', mode: 'read', note });
  const view = job === undefined ? undefined : status.jobs.find((j) => j.name === job);
  if (job !== undefined && !view) throw new RbmError('NoSuchJob', `no job named '${job}'`, { hint: 'rbmctl jobs lists the configured jobs.' });
  // A job named on the command line: the exit code follows that job only.
  const shown = view ? [view] : status.jobs;
  const now = ctx.deps.now();
  if (options.short) ctx.out(shortStatusLine(status, shown, now, where === 'service'));
  else if (ctx.args.json) ctx.json(view ?? status);
  else ctx.out(view ? formatJob(view, now, status.snoozed_until_usec) : formatStatus(status, now));
  return statusExitCode(shown);
}

export async function jobsCommand(ctx: Ctx): Promise<number> {
  const status = await ctx.withClient((c) => c.status(), 'read');
  if (ctx.args.json) ctx.json(status.jobs);
  else ctx.out(formatJobs(status.jobs));
  return 0;
}

export function statusBuilder<T>(y: Argv<T>) {
  return y
    .positional('job', { type: 'string', describe: 'Show one job in detail (the exit code follows that job only)' })
    .option('short', { type: 'boolean', default: false, describe: 'One line for a status bar: "rbm: 4 ok", "rbm: 1 attention (docs), 1 stale (photos)"' })
    .epilogue('Exits 13 when any job shown is not ok (attention, failing or stale), 0 when all are ok.');
}
