// rbmctl approve JOB: show the pending deletes and overwrites of a safety abort with the token of that exact list,
// ask on a terminal (or take --yes together with --token for scripts), then approve that token and follow the run.
// The run deletes and overwrites only what the list holds; if that changed, it parks again with the new list and says
// what changed.

import type { Argv } from 'yargs';
import { RbmError } from '../../errors.js';
import type { RbmClient } from '../../dbus/client.js';
import type { Ctx } from '../context.js';
import { exitCodeForResult } from '../outcomes.js';
import { syncAndWait } from './sync.js';

/** Printed when approve finds no service: the list is read, and the approved run made, in this process. */
const APPROVE_STANDALONE_NOTE = 'rbmctl: the service is not running; reading the list and approving in this process';

/** Paths listed without --all. */
const MAX_LISTED = 50;
/** Paths fetched per call with --all (the service caps a page at 10,000). */
const PAGE = 5000;

export interface ApproveArgs {
  job: string;
  yes: boolean;
  token: string | undefined;
  all: boolean;
}

interface Shown {
  token: string;
  total: number;
  deletes: string[];
  /** Copies over files the other side holds now; total 0 from a service that lists none. */
  overwrites: { total: number; entries: { to: 'Path1' | 'Path2'; path: string }[] };
}

async function readAnswer(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes('\n') || text.length > 1000) finish();
    };
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', finish);
      stdin.pause();
      resolve(text.split('\n')[0]?.trim() ?? '');
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', finish);
    stdin.resume();
  });
}

/** The first page, or every page with --all (all pages must carry the same token, or the list changed meanwhile). */
async function fetchList(client: RbmClient, job: string, all: boolean): Promise<Shown> {
  const first = await client.pendingApproval(job, 0, all ? PAGE : MAX_LISTED);
  const deletes = [...first.deletes];
  while (all && deletes.length < first.total) {
    const page = await client.pendingApproval(job, deletes.length, PAGE);
    if (page.token !== first.token || page.deletes.length === 0) {
      throw new RbmError('ApprovalStale', `job '${job}': the pending list changed while it was being read`, { hint: `Run rbmctl approve ${job} again.` });
    }
    deletes.push(...page.deletes);
  }
  return { token: first.token, total: first.total, deletes, overwrites: await fetchOverwrites(client, job, all, first.token) };
}

/** The overwrites of the same list, page by page like the deletes; every page must carry the deletes' token. */
async function fetchOverwrites(client: RbmClient, job: string, all: boolean, token: string): Promise<Shown['overwrites']> {
  if (!client.pendingOverwrites || token === '') return { total: 0, entries: [] };
  const entries: Shown['overwrites']['entries'] = [];
  let total = 0;
  do {
    const page = await client.pendingOverwrites(job, entries.length, all ? PAGE : MAX_LISTED);
    // A page that brings nothing while more are announced would loop for ever: the list changed under us.
    if (page.token !== token || (all && page.overwrites.length === 0 && entries.length < page.total)) {
      throw new RbmError('ApprovalStale', `job '${job}': the pending list changed while it was being read`, { hint: `Run rbmctl approve ${job} again.` });
    }
    total = page.total;
    entries.push(...page.overwrites);
  } while (all && entries.length < total);
  return { total, entries };
}

/** Which way an overwrite goes, in the job's words (Path1 is the local side). */
function directionOf(to: 'Path1' | 'Path2'): string {
  return to === 'Path2' ? 'local → remote' : 'remote → local';
}

function printList(ctx: Ctx, job: string, shown: Shown): void {
  const n = shown.total;
  const m = shown.overwrites.total;
  if (n > 0 || m === 0) {
    ctx.out(`${job}: the last run stopped before deleting ${n} file${n === 1 ? '' : 's'}:`);
    for (const path of shown.deletes) ctx.out(`  ${path}`);
    if (shown.deletes.length < n) ctx.out(`  … and ${n - shown.deletes.length} more (rbmctl approve ${job} --all lists them)`);
  }
  if (m > 0) {
    // Overwrites replace a file that exists on the other side: shown apart from the deletes, with their direction.
    ctx.out(`${job}: the last run stopped before overwriting ${m} existing file${m === 1 ? '' : 's'} with the other side's version:`);
    for (const o of shown.overwrites.entries) ctx.out(`  ${directionOf(o.to)}  ${o.path}`);
    if (shown.overwrites.entries.length < m) ctx.out(`  … and ${m - shown.overwrites.entries.length} more (rbmctl approve ${job} --all lists them)`);
  }
  ctx.out(`token: ${shown.token}`);
}

/** The question asked before approving. */
function question(job: string, shown: Shown): string {
  const deletes = `Delete exactly ${shown.total === 1 ? 'this file' : `these ${shown.total} files`}`;
  const m = shown.overwrites.total;
  if (m === 0) return `${deletes} and sync ${job}? [y/N] `;
  const overwrites = `overwrite exactly ${m === 1 ? 'this file' : `these ${m} files`}`;
  return shown.total === 0 ? `${overwrites[0]?.toUpperCase() ?? ''}${overwrites.slice(1)} and sync ${job}? [y/N] ` : `${deletes}, ${overwrites} and sync ${job}? [y/N] `;
}

export async function approveCommand(ctx: Ctx, a: ApproveArgs): Promise<number> {
  if (a.yes && a.token === undefined) {
    // A script must have seen the list it approves: --yes only with the token that list was shown with.
    throw new RbmError('InvalidArgs', '--yes needs --token T: the token printed with the list you reviewed', { hint: `See the list and its token with: rbmctl approve ${a.job} --all` });
  }
  if (ctx.args.dryRun) throw new RbmError('InvalidArgs', 'rbmctl approve has no dry run: an approval deletes', { hint: `See what a run would do with: rbmctl sync ${a.job} --dry-run` });
  return ctx.withClientOrStandalone(async (client, where) => {
    const shown = await fetchList(client, a.job, a.all);
    if (shown.token === '') {
      if (ctx.args.json) ctx.json({ job: a.job, needs_approval: false, token: '', total: 0, pending_deletes: [], total_overwrites: 0, pending_overwrites: [] });
      else ctx.out(`${a.job}: nothing waits for approval`);
      return 0;
    }
    if (ctx.args.json) ctx.json({ job: a.job, needs_approval: true, token: shown.token, total: shown.total, pending_deletes: shown.deletes, total_overwrites: shown.overwrites.total, pending_overwrites: shown.overwrites.entries });
    else printList(ctx, a.job, shown);
    const token = a.token ?? shown.token;
    if (!a.yes) {
      if ((ctx.io.stdin as { isTTY?: boolean }).isTTY !== true) {
        throw new RbmError('InvalidArgs', 'rbmctl approve asks for confirmation on a terminal; stdin is not one', { hint: `In a script, approve the list you reviewed: rbmctl approve ${a.job} --yes --token ${shown.token}` });
      }
      if (a.token !== undefined && a.token !== shown.token) {
        throw new RbmError('ApprovalStale', `job '${a.job}': --token is not the token of the list shown above; the list changed`, { hint: `Review the list above and approve it with its token.` });
      }
      ctx.io.stdout.write(question(a.job, shown));
      const answer = (await readAnswer(ctx.io.stdin)).toLowerCase();
      if (answer !== 'y' && answer !== 'yes') {
        ctx.out('Not approved; nothing changed.');
        return exitCodeForResult('needs-approval');
      }
    }
    return syncAndWait(ctx, client, [a.job], {}, async () => [await client.approve(a.job, token)], where);
  }, { use: 'act', mode: 'act', note: APPROVE_STANDALONE_NOTE });
}

export function approveBuilder<T>(y: Argv<T>) {
  return y
    .positional('job', { type: 'string', demandOption: true, describe: 'The job whose safety abort to approve' })
    .option('all', { type: 'boolean', default: false, describe: `List every pending delete and overwrite (default: the first ${MAX_LISTED} of each)` })
    .option('token', { type: 'string', describe: 'The token printed with the list you reviewed; the approval fails if the list changed since' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask (for scripts; needs --token)' });
}
