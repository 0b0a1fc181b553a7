// rbmctl without the service (issue 14, "one-shot as an in-process client of the same API"), on the real service
// process and real rclone over a private session bus; shared by test/integration/cli-standalone.test.ts (current
// rclone) and test/compat/cli-standalone.test.ts (Debian's 1.60). Trees are compared by sha256 on both sides.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { jobPaths } from '../../src/state/paths.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from './engine-env.js';
import { createPairEnv, startService } from './hardening.js';
import { run, type RunResult } from './procs.js';
import type { Suite } from './service-env.js';

const MTIME = new Date('2024-05-01T12:00:00Z');
const READ_NOTE = 'rbmctl: the service is not running; showing what its state directory holds';

type Shape = string | Shape[] | { [key: string]: Shape };

/** The keys and value types of a JSON value (arrays by the shape of their elements), to compare two outputs. */
function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return [...new Set(value.map((v) => JSON.stringify(shapeOf(v))))].map((s) => JSON.parse(s) as Shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shapeOf(v)]));
  }
  return value === null ? 'null' : typeof value;
}

/** Files with fixed mtimes; returns their sha256 by relative path. */
function seed(dir: string, files: Record<string, string>): Record<string, string> {
  writeFiles(dir, files);
  for (const rel of Object.keys(files)) utimesSync(join(dir, rel), MTIME, MTIME);
  return Object.fromEntries(Object.entries(files).map(([rel, content]) => [rel, hashOf(content)]));
}

/** Every file under `dir` with its size, modification time and content hash: equal snapshots mean nothing was written. */
function stateSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const st = statSync(path);
    out[path.slice(dir.length)] = `${st.size}:${st.mtimeMs}:${hashOf(readFileSync(path))}`;
  }
  return out;
}

function parseJson(r: RunResult, what: string): unknown {
  assert.equal(r.code === null ? 'killed' : typeof r.code, 'number', `${what}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    assert.fail(`${what} printed no JSON:\n${r.stdout}\n${r.stderr}`);
  }
}

interface SyncResult {
  job: string;
  run_id: string;
  result: string;
  exit_code: number;
  details: { run_id: string; hint: string; operation: string };
}

/**
 * The same job synced by the service (`rbmctl sync --wait --json`) and, once it is stopped, by `rbmctl sync --standalone
 * --json`: the same JSON shape; `rbmctl history JOB` and `rbmctl status` then work from the state directory, and show
 * the service's run exactly as the service did; a standalone run that needs the user names the job in its next step;
 * `rbmctl approve JOB` shows the pending list and approves it without the service.
 */
export async function standaloneLikeService(t: TestContext, suite: Suite): Promise<void> {
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['pair']);
  const expected = seed(local('pair'), { 'a.txt': 'alpha\n', 'dir/b.txt': 'beta\n' });
  env.writeConfig(env.configText([{ name: 'pair' }]));
  const svc = await startService(t, env, suite.bus().address);
  const rbmctl = (args: string[]): Promise<RunResult> => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env });

  // With the service.
  const bySvc = await rbmctl(['sync', 'pair', '--wait', '--json']);
  assert.equal(bySvc.code, 0, bySvc.stderr);
  assert.equal(bySvc.stderr, '', 'the service answered: no note');
  const [svcRun] = parseJson(bySvc, 'sync --wait --json') as SyncResult[];
  assert.equal(svcRun?.result, 'success', bySvc.stdout);
  assert.deepEqual(treeHashes(remote('pair')), expected);
  const svcHistory = parseJson(await rbmctl(['history', 'pair', '--json']), 'history --json') as { run_id: string }[];
  const svcStatus = parseJson(await rbmctl(['status', '--json']), 'status --json') as { state: string };
  assert.equal(svcStatus.state, 'running');
  assert.equal((await svc.stop()).code, 0);

  // Without it: the same job, a change made on the remote meanwhile.
  Object.assign(expected, seed(remote('pair'), { 'from-remote.txt': 'made on the remote\n' }));
  const alone = await rbmctl(['sync', '--standalone', 'pair', '--json']);
  assert.equal(alone.code, 0, `${alone.stdout}\n${alone.stderr}`);
  const aloneRuns = parseJson(alone, 'sync --standalone --json') as SyncResult[];
  assert.deepEqual(shapeOf(aloneRuns), shapeOf([svcRun]), 'sync --standalone --json prints what sync --wait --json prints with the service');
  assert.equal(aloneRuns[0]?.job, 'pair');
  assert.match(aloneRuns[0]?.result ?? '', /^(success|no-changes)$/);
  assert.equal(aloneRuns[0]?.exit_code, 0);
  assert.deepEqual(treeHashes(local('pair')), expected, 'the remote change reached the local side');
  assert.deepEqual(treeHashes(remote('pair')), expected);

  // history and status with the service stopped: from the state directory, saying so on stderr, and writing nothing.
  const stateBefore = stateSnapshot(svc.stateDir);
  const history = await rbmctl(['history', 'pair', '--json']);
  assert.equal(history.code, 0, history.stderr);
  assert.equal(history.stderr, `${READ_NOTE}\n`);
  const offlineHistory = parseJson(history, 'history --json without the service') as { run_id: string }[];
  assert.deepEqual(offlineHistory.map((r) => r.run_id), [aloneRuns[0].run_id, svcRun.run_id], 'both runs, newest first');
  assert.deepEqual(offlineHistory[1], svcHistory.find((r) => r.run_id === svcRun.run_id), "the service's run, exactly as the service showed it");
  const humanHistory = await rbmctl(['history', 'pair']);
  assert.equal(humanHistory.code, 0, humanHistory.stderr);
  assert.match(humanHistory.stdout, new RegExp(`^${svcRun.run_id} +pair +success +resync `, 'm'));
  const status = await rbmctl(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stderr, `${READ_NOTE}\n`);
  assert.match(status.stdout, /^rclone-bisync-manager \S+: not running, rclone /);
  assert.match(status.stdout, /^pair +idle +ok +(success|no-changes) +\S+ \S+ \(.*\) +-$/m);
  const statusJson = parseJson(await rbmctl(['status', '--json']), 'status --json without the service') as { state: string };
  assert.deepEqual(shapeOf(statusJson), shapeOf(svcStatus), 'status --json has the same shape without the service');
  assert.equal(statusJson.state, 'not running');
  assert.deepEqual(stateSnapshot(svc.stateDir), stateBefore, 'looking at the state without the service changes nothing in it (no run ids reserved)');

  // A standalone run that needs the user names the job in its next step (no listings: bisync is locked out).
  const workdir = jobPaths(svc.stateDir, 'pair').workdir;
  for (const name of readdirSync(workdir).filter((n) => /\.lst(-old|-new)?$/.test(n))) rmSync(join(workdir, name));
  const locked = await rbmctl(['sync', '--standalone', 'pair']);
  assert.equal(locked.code, 6, `${locked.stdout}\n${locked.stderr}`);
  assert.match(locked.stdout, /^pair: needs-resync \(run \d+\): /m);
  assert.match(locked.stdout, /^ {2}next: .*rbmctl sync pair --resync/m);
  assert.doesNotMatch(locked.stdout, /\bJOB\b/);
  const again = await rbmctl(['sync', '--standalone', 'pair']);
  assert.equal(again.code, 6, 'still locked out: the service refuses the run');
  assert.match(again.stderr, /rbmctl sync pair --resync/);
  assert.equal((await rbmctl(['sync', '--standalone', 'pair', '--resync'])).code, 0);
  assert.deepEqual(treeHashes(local('pair')), expected);
  assert.deepEqual(treeHashes(remote('pair')), expected);

  // A safety abort approved without the service: the list is shown from the state directory, and the approval of
  // that list runs in this process and deletes exactly it.
  for (const rel of ['a.txt', 'dir/b.txt']) {
    rmSync(join(local('pair'), rel));
    delete expected[rel];
  }
  const aborted = await rbmctl(['sync', '--standalone', 'pair']);
  assert.equal(aborted.code, 7, `${aborted.stdout}\n${aborted.stderr}`);
  assert.match(aborted.stdout, /^ {2}next: .*rbmctl approve pair\b/m);
  const shown = await rbmctl(['approve', 'pair', '--json']);
  assert.equal(shown.code, 2, 'no terminal to ask on, and no --yes: nothing approved');
  assert.equal(shown.stderr.split('\n')[0], 'rbmctl: the service is not running; reading the list and approving in this process');
  const list = parseJson(shown, 'approve --json without the service') as { needs_approval: boolean; token: string; pending_deletes: string[] };
  assert.equal(list.needs_approval, true);
  assert.deepEqual([...list.pending_deletes].sort(), [join(remote('pair'), 'a.txt'), join(remote('pair'), 'dir/b.txt')]);
  assert.equal(treeHashes(remote('pair'))['a.txt'], hashOf('alpha\n'), 'nothing deleted before the approval');
  const approved = await rbmctl(['approve', 'pair', '--yes', '--token', list.token]);
  assert.equal(approved.code, 0, `${approved.stdout}\n${approved.stderr}`);
  assert.match(approved.stdout, /^pair: success \(run \d+\): /m);
  assert.deepEqual(treeHashes(local('pair')), expected);
  assert.deepEqual(treeHashes(remote('pair')), expected, 'exactly the approved list was deleted');
}
