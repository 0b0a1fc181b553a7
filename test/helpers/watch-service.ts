// Sync on change (issue 16) on the real service process: a private session bus, real rclone, local↔local or
// local↔sftp on 127.0.0.1, `watch: true`. Shared by test/integration/watch-service.test.ts (current rclone) and
// test/compat/watch-service.test.ts (Debian's 1.60). Trees are compared by sha256 on both sides after each run.
// Quiet is proved without sleeping: the service logs its follow-up decision after each run of a watched job, and
// logs the changed paths of each watch run it queues, so a marker edit shows what the next run was queued for.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ManagerSignal, RunView } from '../../src/dbus/client.js';
import { hashOf, treeHashes } from './engine-env.js';
import { startService, waitForRun, waitUntil, type RunningService } from './hardening.js';
import { createServiceEnv, type ServiceEnv, type Suite } from './service-env.js';
import { startSftpServer } from './sftp-server.js';

export type RemoteKind = 'local' | 'sftp';

const MTIME_SEC = Date.parse('2024-05-01T12:00:00Z') / 1000;
const JOB = 'docs';

export interface WatchWorld {
  env: ServiceEnv;
  svc: RunningService;
  local: string;
  /** Path2 on disk (the sftp server's folder for sftp). */
  remote: string;
  /** Every JobFinished from the start, in order. */
  finished: RunView[];
  /** What both sides must hold now (sha256 by path). */
  expected: Record<string, string>;
  /** What only the local side holds (paths the job's filters leave out). */
  localOnly: Record<string, string>;
  /** Write files locally with a fixed mtime and expect them on both sides. */
  put(files: Record<string, string>, side?: 'local' | 'remote'): void;
  /** The next finished run after `afterRunId`, which must be a successful watch run. */
  nextWatchRun(afterRunId: bigint): Promise<RunView>;
  /** Both trees hold exactly `expected`. */
  assertTrees(what: string): void;
  /** The service decided what follows run `runId` (its log line); returns the decision's text. */
  decisionAfter(runId: bigint): Promise<string>;
  /** The log line of the watch run queued as `runId`. */
  queuedLine(runId: bigint): Promise<string>;
  lastRunId(): bigint;
  /** History of the job after `afterRunId`, oldest first. */
  runsAfter(afterRunId: bigint): Promise<RunView[]>;
}

/** Each write gets its own fixed mtime, a minute after the one before (rclone 1.60 sees an edit by its modtime). */
let writes = 0;
function stamp(path: string): void {
  const at = MTIME_SEC + 60 * writes++;
  utimesSync(path, at, at);
}

/** Where the job's local folder is: `<syncRoot>/local/docs`, or the service's HOME itself (its state and config inside). */
type LocalPlace = 'sync-root' | 'home';

function localPathOf(env: ServiceEnv, place: LocalPlace): { base: string; local: string; path: string } {
  return place === 'home' ? { base: dirname(env.home), local: basename(env.home), path: env.home } : { base: join(env.syncRoot, 'local'), local: JOB, path: join(env.syncRoot, 'local', JOB) };
}

function jobConfig(env: ServiceEnv, kind: RemoteKind, remoteSpec: string, extra: string, globals: string, rclone: string, place: LocalPlace = 'sync-root'): string {
  const { base, local } = localPathOf(env, place);
  return [
    `local_base_path: ${base}`,
    `rclone_binary: ${rclone}`,
    'max_parallel_jobs: 2',
    globals,
    'sync_jobs:',
    `  ${JOB}:`,
    `    local: ${local}`,
    `    rclone_remote: ${kind === 'sftp' ? 'box' : '""'}`,
    `    remote: ${remoteSpec}`,
    '    schedule: "0 0 1 1 *"',
    '    watch: true',
    extra,
  ]
    .filter((l) => l !== '')
    .join('\n') + '\n';
}

/** The job `docs` with `watch: true`, its first sync done with `files` (both sides equal), the watch ready. */
export async function watchWorld(t: TestContext, suite: Suite, kind: RemoteKind, options: { files?: Record<string, string>; extra?: string; globals?: string; place?: LocalPlace; unsynced?: readonly string[] } = {}): Promise<WatchWorld> {
  const rclone = suite.rclone!;
  const env = await createServiceEnv(t, { rclone });
  const place = options.place ?? 'sync-root';
  const local = localPathOf(env, place).path;
  // Local folders the job's filters leave out and the service writes into (its state, in a root of ~): not compared.
  const compared = (tree: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(tree).filter(([rel]) => !(options.unsynced ?? []).some((dir) => rel.startsWith(`${dir}/`))));
  mkdirSync(local, { recursive: true });
  let remote = join(env.syncRoot, 'remote', JOB);
  let remoteSpec = remote;
  if (kind === 'sftp') {
    const server = await startSftpServer(t, rclone, env.dir);
    remote = join(server.root, 'share');
    remoteSpec = 'share';
    env.env.RCLONE_CONFIG = server.env.RCLONE_CONFIG;
    env.env.RCLONE_CACHE_DIR = server.env.RCLONE_CACHE_DIR;
  }
  mkdirSync(remote, { recursive: true });
  env.writeConfig(jobConfig(env, kind, remoteSpec, options.extra ?? '', options.globals ?? '', rclone, place));

  const expected: Record<string, string> = {};
  const localOnly: Record<string, string> = {};
  const put: WatchWorld['put'] = (files, side = 'local') => {
    for (const [rel, text] of Object.entries(files)) {
      const path = join(side === 'local' ? local : remote, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      stamp(path);
      expected[rel] = hashOf(text);
    }
  };
  put(options.files ?? { 'seed.txt': 'seed\n' });

  const svc = await startService(t, env, suite.bus().address);
  const finished: RunView[] = [];
  await svc.client.subscribe((s: ManagerSignal) => {
    if (s.kind === 'job-finished') finished.push(s.details);
  });
  await waitUntil('the watch of docs to be ready', async () => (await svc.client.status()).jobs[0]?.watch === 'watching');
  const [first] = await svc.client.sync([JOB]);
  const initial = await waitForRun(svc.client, JOB, first!);
  assert.match(initial.result, /^(success|no-changes)$/, initial.message);

  const world: WatchWorld = {
    env,
    svc,
    local,
    remote,
    finished,
    expected,
    localOnly,
    put,
    async nextWatchRun(afterRunId) {
      let run: RunView | undefined;
      await waitUntil(`a run of docs after run ${afterRunId}`, () => (run = finished.find((r) => r.run_id > afterRunId)) !== undefined, 90_000);
      assert.equal(run!.trigger, 'watch', `run ${run!.run_id} came from the watch`);
      assert.equal(run!.result, 'success', `${run!.message}\n${svc.daemon.output().slice(-3000)}`);
      return run!;
    },
    assertTrees(what) {
      assert.deepEqual(compared(treeHashes(local)), { ...expected, ...localOnly }, `local: ${what}`);
      assert.deepEqual(treeHashes(remote), expected, `remote: ${what}`);
    },
    async decisionAfter(runId) {
      const re = new RegExp(`\\[docs#${runId}\\] after the run (\\{.*\\})$`, 'm');
      let match: RegExpExecArray | null = null;
      await waitUntil(`the follow-up decision after run ${runId}`, () => (match = re.exec(svc.daemon.output())) !== null);
      return match![1]!;
    },
    async queuedLine(runId) {
      const re = new RegExp(`\\[docs#${runId}\\] (local changes: sync queued|changes during the run: one follow-up sync queued) (\\{.*\\})$`, 'm');
      let match: RegExpExecArray | null = null;
      await waitUntil(`the watch queueing run ${runId}`, () => (match = re.exec(svc.daemon.output())) !== null);
      return `${match![1]} ${match![2]}`;
    },
    lastRunId: () => finished.reduce((max, r) => (r.run_id > max ? r.run_id : max), initial.run_id),
    async runsAfter(afterRunId) {
      return (await svc.client.history(JOB, 100)).filter((r) => r.run_id > afterRunId).sort((a, b) => Number(a.run_id - b.run_id));
    },
  };
  world.assertTrees('the first sync');
  return world;
}

/** A marker edit: the next run after `afterRunId` is queued for exactly that change, and it is the next run. */
async function markerIsNextRun(w: WatchWorld, afterRunId: bigint, what: string): Promise<RunView> {
  w.put({ 'marker.txt': `marker after ${afterRunId}\n` });
  const run = await w.nextWatchRun(afterRunId);
  assert.equal(run.run_id, afterRunId + 1n, `${what}: the marker's run is the next run`);
  assert.equal(await w.queuedLine(run.run_id), 'local changes: sync queued {"component":"watch","changes":1,"first":["marker.txt"]}', what);
  w.assertTrees(`${what}: the marker reached the other side`);
  assert.deepEqual((await w.runsAfter(afterRunId)).map((r) => r.run_id), [run.run_id], `${what}: no other run`);
  return run;
}

/** Issue 16: an edit, a new file in a new subfolder, a delete and a rename each reach the other side with no user action. */
export async function editNewDeleteRename(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const files: Record<string, string> = { 'a.txt': 'alpha\n', 'old-name.txt': 'to be renamed\n' };
  for (let i = 1; i <= 6; i++) files[`keep/k${i}.txt`] = `keep ${i}\n`;
  const w = await watchWorld(t, suite, kind, { files });
  const start = w.lastRunId();
  let last = start;
  const step = async (what: string, change: () => void): Promise<void> => {
    change();
    const run = await w.nextWatchRun(last);
    w.assertTrees(what);
    assert.match(await w.decisionAfter(run.run_id), /"followUp":"none","reason":"no-changes"/, `${what}: nothing follows an upload`);
    last = run.run_id;
  };
  await step('an edit', () => w.put({ 'a.txt': 'alpha, edited\n' }));
  await step('a new file in a new subfolder', () => w.put({ 'new/sub/n.txt': 'new\n' }));
  await step('a delete', () => {
    unlinkSync(join(w.local, 'keep/k1.txt'));
    delete w.expected['keep/k1.txt'];
  });
  await step('a rename', () => {
    renameSync(join(w.local, 'old-name.txt'), join(w.local, 'new-name.txt'));
    w.expected['new-name.txt'] = w.expected['old-name.txt']!;
    delete w.expected['old-name.txt'];
  });
  const runs = await w.runsAfter(start);
  assert.deepEqual(runs.map((r) => [r.trigger, r.result]), Array.from({ length: 4 }, () => ['watch', 'success']), 'one watch run per change, nothing else');
  await markerIsNextRun(w, last, 'after the four changes');
  assert.equal((await w.svc.stop()).code, 0);
}

/**
 * Issue 16: 200 files arriving at once give one run, not 200. They are written in a folder outside the root (however
 * slowly a loaded machine writes them) and moved in with one rename, as a download or an unpacked archive arrives;
 * the debounce of a slow burst is timed on the fake clock (test/unit/run-watch-debounce.test.ts).
 */
export async function burstOf200(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const w = await watchWorld(t, suite, kind);
  const start = w.lastRunId();
  const staging = join(w.env.syncRoot, 'staging');
  const burst: Record<string, string> = {};
  for (let i = 0; i < 200; i++) burst[`burst/f${String(i).padStart(3, '0')}.txt`] = `burst file ${i}\n`;
  for (const [rel, text] of Object.entries(burst)) {
    const path = join(staging, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    stamp(path);
    w.expected[rel] = hashOf(text);
  }
  renameSync(join(staging, 'burst'), join(w.local, 'burst'));
  const run = await w.nextWatchRun(start);
  const queued = await w.queuedLine(run.run_id);
  // One folder, one rename, one listing: the watcher reports the folder and its 200 files in one batch.
  assert.match(queued, /^local changes: sync queued \{"component":"watch","changes":201,/, 'one run for the 200 files and their folder');
  w.assertTrees('the burst');
  assert.match(await w.decisionAfter(run.run_id), /"followUp":"none","reason":"no-changes"/);
  await markerIsNextRun(w, run.run_id, 'after the burst');
  assert.equal((await w.svc.stop()).code, 0);
}

/**
 * Issue 16 as written (review finding 10): 200 files written in place into the root, one after the other, give one
 * run (two at most), and all 200 reach the other side. A watch_delay of 5 s (and a maximum wait of a minute) holds
 * the burst however slowly the machine writes it: a pause longer than that between two writes starts the run early,
 * and the files written during it are its one follow-up, so two runs is the most a slow machine can give.
 */
export async function burstOf200InPlace(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const w = await watchWorld(t, suite, kind, { extra: '    watch_delay: 5s\n    watch_max_wait: 60s' });
  const start = w.lastRunId();
  const burst: Record<string, string> = {};
  for (let i = 0; i < 200; i++) burst[`burst/f${String(i).padStart(3, '0')}.txt`] = `burst file ${i}\n`;
  w.put(burst); // each file written (and its mtime set) in the watched root itself
  const runs: RunView[] = [await w.nextWatchRun(start)];
  let decision = await w.decisionAfter(runs[0]!.run_id);
  if (decision.includes('"followUp":"follow-up"')) {
    runs.push(await w.nextWatchRun(runs[0]!.run_id));
    decision = await w.decisionAfter(runs[1]!.run_id);
  }
  assert.match(decision, /"followUp":"none","reason":"no-changes"/, 'the burst is synced in one run, two at most');
  assert.match(await w.queuedLine(runs[0]!.run_id), /^local changes: sync queued \{"component":"watch","changes":\d+,/);
  w.assertTrees('the 200 files written in place');
  const last = runs.at(-1)!;
  assert.deepEqual((await w.runsAfter(start)).map((r) => r.run_id), runs.map((r) => r.run_id), 'no other run');
  await markerIsNextRun(w, last.run_id, 'after the burst written in place');
  assert.equal((await w.svc.stop()).code, 0);
}

/** Issue 16: a run that downloads 50 files does not loop (its own writes are no change), then the watch goes on. */
export async function download50(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const w = await watchWorld(t, suite, kind);
  const fifty: Record<string, string> = {};
  for (let i = 0; i < 50; i++) fifty[`incoming/f${String(i).padStart(2, '0')}.txt`] = `from the other side ${i}\n`;
  w.put(fifty, 'remote');
  const [id] = await w.svc.client.sync(['docs']);
  const run = await waitForRun(w.svc.client, 'docs', id!);
  assert.equal(run.result, 'success', run.message);
  assert.equal(run.trigger, 'manual');
  w.assertTrees('the download');
  assert.match(await w.decisionAfter(run.run_id), /"followUp":"none","reason":"own-writes"/, 'the download\'s own writes are no change');
  await markerIsNextRun(w, run.run_id, 'after the download');
  assert.equal((await w.svc.stop()).code, 0);
}

/** Write files locally that the job's filters leave out (they stay on the local side only). */
function putLocalOnly(w: WatchWorld, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(w.local, rel)), { recursive: true });
    writeFileSync(join(w.local, rel), text);
    w.localOnly[rel] = hashOf(text);
  }
}

/**
 * Issue 16 with the global options (review finding 6): a top-level `rclone_options` exclude does not trigger the job;
 * a path that triggered before a reload no longer does once the reload adds it to a global exclude.
 */
export async function globalExclude(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const globals = (patterns: string[]): string => `rclone_options:\n  exclude: [${patterns.map((p) => JSON.stringify(p)).join(', ')}]`;
  const w = await watchWorld(t, suite, kind, { files: { 'seed.txt': 'seed\n', 'sub/kept.txt': 'kept\n' }, globals: globals(['*.tmp']) });
  const start = w.lastRunId();
  putLocalOnly(w, { 'x.tmp': 'scratch\n', 'sub/y.tmp': 'scratch\n' });
  const afterTmp = await markerIsNextRun(w, start, 'after globally excluded writes');

  // Before the reload a .log file is synced like any other.
  w.put({ 'first.log': 'synced\n' });
  const logRun = await w.nextWatchRun(afterTmp.run_id);
  assert.match(await w.queuedLine(logRun.run_id), /"first":\["first\.log"\]/);
  w.assertTrees('a .log before the reload');
  assert.match(await w.decisionAfter(logRun.run_id), /"followUp":"none"/);

  const watching = (): number => w.svc.daemon.output().match(/watching for local changes/g)?.length ?? 0;
  const armed = watching();
  w.env.writeConfig(jobConfig(w.env, kind, kind === 'sftp' ? 'share' : w.remote, '', globals(['*.tmp', '*.log']), suite.rclone!));
  await w.svc.client.reload();
  await waitUntil('the watch rebuilt with the new global exclude', () => watching() > armed);
  putLocalOnly(w, { 'second.log': 'not synced any more\n' });
  await markerIsNextRun(w, logRun.run_id, 'after a reload added *.log to the global exclude');
  assert.equal((await w.svc.stop()).code, 0);
}

/**
 * A watch run that meets rclone's safety check (more deletes than max_delete allows) stops for approval like a
 * scheduled one, and changes made while it waits start no run: the other side keeps every file.
 */
export async function deletesBeyondMaxDelete(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= 20; i++) files[`${i <= 12 ? 'old/' : ''}f${String(i).padStart(2, '0')}.txt`] = `content ${i}\n`;
  const w = await watchWorld(t, suite, kind, { files, extra: '    rclone_options:\n      max_delete: 25' });
  const start = w.lastRunId();
  const remoteBefore = treeHashes(w.remote);
  const deleted = Object.keys(files).filter((rel) => rel.startsWith('old/')); // 12 of 20 files: 60 %, beyond 25 %
  // One rename moves the folder out of the root: one change, one run (however slowly the machine goes).
  renameSync(join(w.local, 'old'), join(w.env.syncRoot, 'moved-away'));
  let parked: RunView | undefined;
  await waitUntil('the watch run of the deletes', () => (parked = w.finished.find((r) => r.run_id > start)) !== undefined, 90_000);
  assert.equal(parked!.trigger, 'watch', 'the deletes started a watch run');
  assert.equal(parked!.result, 'needs-approval', `${parked!.message}\n${w.svc.daemon.output().slice(-3000)}`);
  assert.match(await w.decisionAfter(parked!.run_id), /"followUp":"none","reason":"no-changes"/, 'the aborted run wrote nothing locally');
  const job = (await w.svc.client.status()).jobs[0]!;
  assert.equal(job.state, 'needs-approval');

  // Changes while the job waits for its approval are seen and start nothing.
  writeFileSync(join(w.local, 'edited-while-waiting.txt'), 'typed\n');
  let held: RegExpExecArray | null = null;
  await waitUntil('the watch to hold the change', () => (held = /\[docs\] local changes seen; no sync queued: the job waits for an approval (\{.*\})$/m.exec(w.svc.daemon.output())) !== null);
  assert.match(held![1]!, /"first":\["edited-while-waiting\.txt"\]/);
  assert.deepEqual((await w.runsAfter(start)).map((r) => [r.trigger, r.result]), [['watch', 'needs-approval']], 'one run, nothing after it');
  assert.deepEqual(treeHashes(w.remote), remoteBefore, 'the other side keeps every file');
  for (const rel of deleted) assert.ok(remoteBefore[rel], `${rel} is still on the other side`);
  assert.equal((await w.svc.stop()).code, 0);
}

/** Issue 16: a path the job's filters exclude does not trigger it. */
export async function excludedPath(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const w = await watchWorld(t, suite, kind, { files: { 'seed.txt': 'seed\n', 'sub/kept.txt': 'kept\n' }, extra: '    rclone_options:\n      exclude: ["*.tmp", "cache/**"]' });
  const start = w.lastRunId();
  putLocalOnly(w, { 'x.tmp': 'scratch\n', 'sub/y.tmp': 'scratch\n', 'cache/blob.bin': 'cached\n' });
  // The excluded writes came first: had they counted, the marker's run would list them too (markerIsNextRun).
  await markerIsNextRun(w, start, 'after excluded writes'); // the remote holds none of them: rclone left them out too
  assert.equal((await w.svc.stop()).code, 0);
}

/**
 * Review finding 4: a watched root holding the service's own folders (a job syncing ~, with the state folder in
 * ~/.local/state/rclone-bisync-manager and the config in ~/.config/rclone-bisync-manager) does not loop. The job's
 * rclone filters leave those folders out through an exclude_from file (a rule the watch cannot read, so only the
 * watcher's own knowledge of the service's folders keeps their writes out): every run writes its state, history and
 * log lines there, and each of those used to start the next run.
 */
export async function serviceFoldersInsideRoot(t: TestContext, suite: Suite, kind: RemoteKind): Promise<void> {
  const excludes = join(tmpdir(), `rbm-watch-excludes-${process.pid}-${Date.now()}.txt`);
  writeFileSync(excludes, '/.local/**\n/.cache/**\n/.config/**\n');
  t.after(() => rmSync(excludes, { force: true }));
  const w = await watchWorld(t, suite, kind, { place: 'home', extra: `    rclone_options:\n      exclude_from: ${excludes}`, unsynced: ['.local', '.cache', '.config'] });
  const first = w.lastRunId();
  assert.match(await w.decisionAfter(first), /"followUp":"none","reason":"no-changes"/, 'the run\'s own state, history and log writes are no change');
  const marker = await markerIsNextRun(w, first, 'after the first sync of ~');
  assert.match(await w.decisionAfter(marker.run_id), /"followUp":"none","reason":"no-changes"/, 'nor after a watch run');
  await markerIsNextRun(w, marker.run_id, 'after a watch run of ~');
  assert.equal((await w.svc.stop()).code, 0);
}
