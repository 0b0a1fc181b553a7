// rbmctl approve with overwrites in the pending list (a fake D-Bus client, no bus): the overwrites are shown apart
// from the deletes, with their count and direction, the question names both, --json carries both, every page must
// carry one token; rbmctl status JOB says how many deletes and overwrites wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { JobView, ManagerSignal, RbmClient, RunView } from '../../src/dbus/client.js';
import { formatJob } from '../../src/cli/format.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const TOKEN = 'b'.repeat(64);

interface Pending {
  deletes: string[];
  overwrites: { to: 'Path1' | 'Path2'; path: string }[];
  /** The token the overwrite pages carry (another one: the list changed between the calls). */
  overwriteToken?: string;
}

function record(runId: bigint, job: string): RunView {
  return {
    run_id: runId, job, result: 'success', operation: 'bisync', trigger: 'manual', dry_run: false, started_usec: BigInt(NOW) * 1000n, finished_usec: BigInt(NOW + 2000) * 1000n,
    exit_code: 0, signal: '', message: 'approved (1 delete, 2 overwrites)', hint: '', error: '', files: 2n, bytes: 2048n, deletes: 1, renames: 0, errors: 0, conflicts: [], hash_warnings: 0,
  };
}

function fakeClient(pending: Pending) {
  const calls: string[] = [];
  let listener: ((s: ManagerSignal) => void) | undefined;
  const client = {
    pendingApproval: (job: string, offset: number, limit: number) => {
      calls.push(`pendingApproval ${job} ${offset} ${limit}`);
      return Promise.resolve({ token: TOKEN, total: pending.deletes.length, deletes: pending.deletes.slice(offset, offset + limit) });
    },
    pendingOverwrites: (job: string, offset: number, limit: number) => {
      calls.push(`pendingOverwrites ${job} ${offset} ${limit}`);
      return Promise.resolve({ token: pending.overwriteToken ?? TOKEN, total: pending.overwrites.length, overwrites: pending.overwrites.slice(offset, offset + limit) });
    },
    approve: (job: string, token: string) => {
      calls.push(`approve ${job} ${token}`);
      setImmediate(() => listener?.({ kind: 'job-finished', job, runId: 100n, result: 'success', details: record(100n, job) }));
      return Promise.resolve(100n);
    },
    subscribe: (l: (s: ManagerSignal) => void) => {
      listener = l;
      return Promise.resolve(() => undefined);
    },
    close: () => undefined,
  };
  return { client: client as unknown as RbmClient, calls };
}

async function rbmctl(argv: string[], client: RbmClient, stdinText = '') {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  Object.assign(stdin, { isTTY: true });
  stdin.end(stdinText);
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t), isTTY: false }, stderr: { write: (t: string) => (stderr += t) }, stdin, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/fake' } },
    { connect: () => Promise.resolve(client), now: () => NOW, runCommand: () => Promise.resolve({ code: 1, stdout: '', stderr: '' }), openStandalone: undefined },
  );
  return { code, stdout, stderr };
}

const shifted = (n: number) => Array.from({ length: n }, (_, i) => ({ to: 'Path2' as const, path: `box:docs/f${String(i).padStart(3, '0')}.txt` }));

test('approve shows the overwrites apart from the deletes, with their direction, and asks about both', async () => {
  const pending: Pending = { deletes: ['box:docs/gone.txt'], overwrites: [{ to: 'Path2', path: 'box:docs/a.txt' }, { to: 'Path1', path: '/home/u/docs/b.txt' }] };
  const declined = await rbmctl(['approve', 'docs'], fakeClient(pending).client, 'n\n');
  assert.equal(declined.code, 7);
  assert.equal(
    declined.stdout,
    'docs: the last run stopped before deleting 1 file:\n  box:docs/gone.txt\n' +
      "docs: the last run stopped before overwriting 2 existing files with the other side's version:\n  local → remote  box:docs/a.txt\n  remote → local  /home/u/docs/b.txt\n" +
      `token: ${TOKEN}\nDelete exactly this file, overwrite exactly these 2 files and sync docs? [y/N] Not approved; nothing changed.\n`,
  );
  const yes = fakeClient(pending);
  const approved = await rbmctl(['approve', 'docs'], yes.client, 'y\n');
  assert.equal(approved.code, 0, approved.stderr);
  assert.ok(yes.calls.includes(`approve docs ${TOKEN}`), yes.calls.join('\n'));
});

test('"all files were changed": no delete header, the overwrites counted, the first 50 shown; --all and --json carry every one', async () => {
  const pending: Pending = { deletes: [], overwrites: shifted(70) };
  const first = await rbmctl(['approve', 'docs'], fakeClient(pending).client, 'n\n');
  assert.ok(first.stdout.startsWith("docs: the last run stopped before overwriting 70 existing files with the other side's version:\n  local → remote  box:docs/f000.txt\n"), first.stdout);
  assert.ok(!first.stdout.includes('deleting'), first.stdout);
  assert.match(first.stdout, / {2}local → remote {2}box:docs\/f049\.txt\n {2}… and 20 more \(rbmctl approve docs --all lists them\)\n/);
  assert.match(first.stdout, /Overwrite exactly these 70 files and sync docs\? \[y\/N\] /);
  const all = fakeClient(pending);
  const json = await rbmctl(['approve', 'docs', '--all', '--json'], all.client, 'n\n');
  const shown = JSON.parse(json.stdout.slice(0, json.stdout.indexOf('\n}\n') + 2)) as { total: number; total_overwrites: number; pending_overwrites: unknown[]; token: string };
  assert.deepEqual([shown.total, shown.total_overwrites, shown.pending_overwrites, shown.token], [0, 70, pending.overwrites, TOKEN]);
});

test('an overwrite page with another token than the deletes\' means the list changed while it was read: nothing is approved', async () => {
  const changed = fakeClient({ deletes: ['box:docs/gone.txt'], overwrites: shifted(2), overwriteToken: 'c'.repeat(64) });
  const r = await rbmctl(['approve', 'docs', '--yes', '--token', TOKEN], changed.client);
  assert.equal(r.code, 12, r.stderr);
  assert.match(r.stderr, /the pending list changed while it was being read/);
  assert.ok(!changed.calls.some((c) => c.startsWith('approve ')));
});

test('rbmctl status JOB says how many deletes and overwrites wait for approval', () => {
  const view = { name: 'docs', path: '/p', state: 'needs-approval', paused: false, local: '/home/u/docs', remote: 'box:docs', schedule: '*/5 * * * *', active: true, dry_run: false, last_result: 'needs-approval', last_message: '', last_error: '', last_run_id: 3n, last_run_usec: 0n, last_finished_usec: 0n, next_run_usec: 0n, current_run_id: 0n, needs_resync: false, needs_approval: true, hash_warning: false, cpu_limit_applied: true, pending_deletes: 0, pending_overwrites: 10 } satisfies JobView;
  assert.match(formatJob(view, NOW), /^waiting: +0 deletes and 10 overwrites of existing files wait for approval$/m);
  const older: JobView = { ...view };
  delete older.pending_deletes;
  delete older.pending_overwrites;
  assert.ok(!formatJob(older, NOW).includes('waiting:'), 'an older service sends no counts');
});
