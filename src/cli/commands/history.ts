// rbmctl history [JOB] [--limit N]: the run records, newest first.
import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { formatHistory } from '../format.js';
import { READ_STANDALONE_NOTE } from './status.js';

export async function historyCommand(ctx: Ctx, job: string | undefined, limit: number): Promise<number> {
  if (!Number.isInteger(limit) || limit < 0 || limit > 1000) throw new RbmError('InvalidArgs', '--limit must be a whole number from 0 to 1000');
  const runs = await ctx.withClientOrStandalone((c) => c.history(job ?? '', limit), { use: 'read', mode: 'read', note: READ_STANDALONE_NOTE });
  if (ctx.args.json) ctx.json(runs);
  else ctx.out(formatHistory(runs, ctx.deps.now()));
  return 0;
}

export function historyBuilder<T>(y: Argv<T>) {
  return y
    .positional('job', { type: 'string', describe: 'Only this job (default: all jobs)' })
    .option('limit', { alias: 'n', type: 'number', default: 20, describe: 'How many runs (at most 1000)' });
}
