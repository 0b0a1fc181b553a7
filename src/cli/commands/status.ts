// rbmctl status [JOB] and rbmctl jobs: read-only views of the service.
import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { formatJob, formatJobs, formatStatus } from '../format.js';

/** Printed when status or history finds no service: they show what the state directory holds. */
export const READ_STANDALONE_NOTE = 'rbmctl: the service is not running; showing what its state directory holds';

export async function statusCommand(ctx: Ctx, job: string | undefined): Promise<number> {
  const status = await ctx.withClientOrStandalone((c) => c.status(), { use: 'read', mode: 'read', note: READ_STANDALONE_NOTE });
  if (job === undefined) {
    if (ctx.args.json) ctx.json(status);
    else ctx.out(formatStatus(status, ctx.deps.now()));
    return 0;
  }
  const view = status.jobs.find((j) => j.name === job);
  if (!view) throw new RbmError('NoSuchJob', `no job named '${job}'`, { hint: 'rbmctl jobs lists the configured jobs.' });
  if (ctx.args.json) ctx.json(view);
  else ctx.out(formatJob(view, ctx.deps.now()));
  return 0;
}

export async function jobsCommand(ctx: Ctx): Promise<number> {
  const status = await ctx.withClient((c) => c.status(), 'read');
  if (ctx.args.json) ctx.json(status.jobs);
  else ctx.out(formatJobs(status.jobs));
  return 0;
}

export function statusBuilder<T>(y: Argv<T>) {
  return y.positional('job', { type: 'string', describe: 'Show one job in detail' });
}
