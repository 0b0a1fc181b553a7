// rbmctl snooze [JOB...] DURATION, rbmctl unsnooze [JOB...]: silence the notifications and the on_attention hook of
// jobs (no job: every job, new ones too) for a while, over D-Bus. The state and the health stay visible.
import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import { parseJobNames, parseSnoozeRequest } from '../../api/requests.js';
import type { Ctx } from '../context.js';
import { formatUntil } from '../health-view.js';

/** rbmctl's names for the arguments in its messages (the D-Bus adapter says `jobs` and `seconds`). */
const SNOOZE_ARGUMENTS = { jobs: 'JOB', seconds: 'DURATION' };

/** The words after `snooze`: job names, then the duration last (checked before anything is asked). */
export function parseSnoozeWords(words: readonly string[]): { jobs: string[]; seconds: number } {
  if (words.length === 0) throw new RbmError('InvalidArgs', 'DURATION: missing (e.g. rbmctl snooze 2h, rbmctl snooze photos 1d)');
  return parseSnoozeRequest(words.slice(0, -1), words[words.length - 1], SNOOZE_ARGUMENTS);
}

function whom(jobs: readonly string[]): string {
  return jobs.length === 0 ? 'every job' : jobs.join(', ');
}

export async function snoozeCommand(ctx: Ctx, words: readonly string[]): Promise<number> {
  const { jobs, seconds } = parseSnoozeWords(words);
  await ctx.withClient((c) => c.snooze(jobs, seconds));
  const untilMs = ctx.deps.now() + seconds * 1000;
  if (ctx.args.json) ctx.json({ snoozed: jobs, seconds, until_usec: BigInt(untilMs) * 1000n });
  else ctx.out(`notifications snoozed for ${whom(jobs)} until ${formatUntil(BigInt(untilMs) * 1000n, ctx.deps.now()) ?? 'now'} (the state stays visible in rbmctl status)`);
  return 0;
}

export async function unsnoozeCommand(ctx: Ctx, words: readonly string[]): Promise<number> {
  const jobs = parseJobNames(words, SNOOZE_ARGUMENTS.jobs);
  await ctx.withClient((c) => c.unsnooze(jobs));
  if (ctx.args.json) ctx.json({ unsnoozed: jobs });
  else ctx.out(jobs.length === 0 ? 'notifications on again: the global snooze and every job\'s ended' : `notifications on again for ${whom(jobs)}`);
  return 0;
}

export function snoozeBuilder<T>(y: Argv<T>) {
  return y
    .usage('rbmctl snooze [JOB...] DURATION\n\nSilence the notifications and the on_attention hook of the jobs (none named: every job, new ones too) for DURATION; their state and health stay visible.')
    .positional('jobs-then-duration', { type: 'string', array: true, demandOption: true, describe: 'Job names (none: every job, new ones too), then how long: 90m, 2h, 1d12h (1 second to 30 days)' })
    .example('rbmctl snooze 2h', 'silence every job for two hours')
    .example('rbmctl snooze photos docs 1d', 'silence two jobs for a day');
}

export function unsnoozeBuilder<T>(y: Argv<T>) {
  return y.positional('jobs', { type: 'string', array: true, describe: 'Job names (none: end the global snooze and every job\'s)' });
}
