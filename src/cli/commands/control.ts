// rbmctl pause|resume|cancel JOB..., reload, remove-job NAME, add-sync JOB..., add-job NAME: changes to the service.
import type { Argv } from 'yargs';
import type { Ctx } from '../context.js';

export type ListVerb = 'pause' | 'resume' | 'cancel';

const DONE: Record<ListVerb, string> = { pause: 'paused', resume: 'resumed', cancel: 'cancelled' };

export async function listCommand(ctx: Ctx, verb: ListVerb, jobs: readonly string[]): Promise<number> {
  await ctx.withClient((c) => c[verb](jobs));
  if (ctx.args.json) ctx.json({ [verb]: jobs });
  else ctx.out(`${DONE[verb]}: ${jobs.join(', ')}`);
  return 0;
}

export async function reloadCommand(ctx: Ctx): Promise<number> {
  await ctx.withClient((c) => c.reload());
  if (!ctx.args.json) ctx.out('config reloaded');
  else ctx.json({ reloaded: true });
  return 0;
}

export async function removeJobCommand(ctx: Ctx, name: string): Promise<number> {
  await ctx.withClient((c) => c.removeJob(name));
  if (ctx.args.json) ctx.json({ removed: name });
  else ctx.out(`removed job ${name}`);
  return 0;
}

/** add-sync: pick up jobs just added to the config file and run them now (the old tool's add-sync). */
export async function addSyncCommand(ctx: Ctx, jobs: readonly string[]): Promise<number> {
  const paths = await ctx.withClient(async (c) => {
    const out: Record<string, string> = {};
    for (const job of jobs) out[job] = await c.addJob(job, {});
    return out;
  });
  if (ctx.args.json) ctx.json(paths);
  else for (const job of jobs) ctx.out(`${job}: added, first sync queued`);
  return 0;
}

export interface AddJobArgs {
  name: string;
  local: string;
  remote: string;
  schedule: string;
  active: boolean;
  checkAccess: boolean | undefined;
  autoResync: boolean | undefined;
  filtersFile: string | undefined;
  conflictResolve: string | undefined;
}

/** add-job: a new job written into the config file (comments kept), scheduled, and its first sync run. */
export async function addJobCommand(ctx: Ctx, a: AddJobArgs): Promise<number> {
  const colon = a.remote.indexOf(':');
  const definition: Record<string, unknown> = {
    local: a.local,
    ...(colon > 0 ? { rclone_remote: a.remote.slice(0, colon), remote: a.remote.slice(colon + 1) } : { rclone_remote: '', remote: a.remote }),
    schedule: a.schedule,
    active: a.active,
    check_access: a.checkAccess,
    auto_resync: a.autoResync,
    filters_file: a.filtersFile,
    conflict_resolve: a.conflictResolve,
    dry_run: ctx.args.dryRun ? true : undefined,
  };
  const path = await ctx.withClient((c) => c.addJob(a.name, definition));
  if (ctx.args.json) ctx.json({ job: a.name, path });
  else ctx.out(`${a.name}: added to the config file, first sync queued`);
  return 0;
}

export function jobsBuilder<T>(y: Argv<T>) {
  return y.positional('jobs', { type: 'string', array: true, demandOption: true, describe: 'Job names' });
}

export function addJobBuilder<T>(y: Argv<T>) {
  return y
    .positional('name', { type: 'string', demandOption: true, describe: 'Name of the new job (A-Z a-z 0-9 . _ -)' })
    .option('local', { type: 'string', demandOption: true, describe: 'Local folder (Path1)' })
    .option('remote', { type: 'string', demandOption: true, describe: 'REMOTE:PATH (Path2)' })
    .option('schedule', { type: 'string', demandOption: true, describe: 'Cron expression, e.g. "*/15 * * * *"' })
    .option('active', { type: 'boolean', default: true, describe: 'Schedule the job (--no-active: configured but idle)' })
    .option('check-access', { type: 'boolean', describe: 'Seed and check RCLONE_TEST files' })
    .option('auto-resync', { type: 'boolean', describe: 'Resync on its own after a lockout' })
    .option('filters-file', { type: 'string', describe: 'rclone filters file for this job' })
    .option('conflict-resolve', { type: 'string', choices: ['none', 'path1', 'path2', 'newer', 'older', 'larger', 'smaller'], describe: 'rclone >= 1.66 conflict policy' });
}
