// The tree watcher (src/platform/tree-watcher.ts) on real directories and real inotify: create, modify, delete,
// rename (files and folders), a new subfolder with files in it, ignored paths, 200 files moved in at once through
// the debounce, the settled() barrier, close(), the root removed and re-created, and the inotify limits (ENOSPC,
// EMFILE) in a user namespace with lowered limits (desktop-integration reference §7). Every wait is on an event;
// none on time. "Nothing was reported" is proved by a later event that was reported (inotify keeps the order).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createTreeWatcher, type TreeWatchFailure, type TreeWatcherOptions } from '../../src/platform/tree-watcher.js';
import { createWatchTrigger, type WatchTriggerCause } from '../../src/run/rules/watch-debounce.js';
import { DEFAULT_WATCH } from '../../src/config/watch-settings.js';
import { systemClock } from '../../src/platform/clock.js';
import { tempDir, writeFiles } from '../helpers/engine-env.js';
import { requireProgram } from '../helpers/tools.js';

const PROBE = join(import.meta.dirname, '..', 'fixtures', 'watch', 'tree-watch-probe.ts');

interface Watched {
  /** Every path reported since the last reset. */
  seen: Set<string>;
  batches: string[][];
  failures: TreeWatchFailure[];
  readies: number[];
  until(what: string, condition: () => boolean): Promise<void>;
  reset(): void;
  watcher: ReturnType<typeof createTreeWatcher>;
}

function watchTree(t: TestContext, root: string, options: Partial<TreeWatcherOptions> = {}): Watched {
  const waiters: { condition: () => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.condition()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const state = {
    seen: new Set<string>(),
    batches: [] as string[][],
    failures: [] as TreeWatchFailure[],
    readies: [] as number[],
  };
  const watcher = createTreeWatcher({
    root,
    onChange: (paths) => {
      state.batches.push(paths);
      for (const p of paths) state.seen.add(p);
      check();
    },
    onFailure: (f) => {
      state.failures.push(f);
      check();
    },
    onReady: (info) => {
      state.readies.push(info.dirs);
      check();
    },
    ...options,
  });
  // The real clock's timers never keep the process alive (the service has its bus for that): this handle does,
  // while the watcher polls for a root that went away.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  t.after(() => {
    watcher.close();
    clearInterval(keepAlive);
  });
  return {
    ...state,
    get seen() {
      return state.seen;
    },
    watcher,
    until(_what: string, condition: () => boolean): Promise<void> {
      if (condition()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ condition, resolve }));
    },
    reset(): void {
      state.seen = new Set();
    },
  };
}

const has = (w: Watched, ...paths: string[]) => () => paths.every((p) => w.seen.has(p));

test('create, modify, delete, rename and a new subfolder with files are reported as relative paths', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'b.txt': 'b', 'c.txt': 'c', 'd.txt': 'd', 'old/inside.txt': 'i', 'deep/er/x.txt': 'x' });
  const w = watchTree(t, root);
  await w.until('ready', () => w.readies.length === 1);
  assert.deepEqual(w.readies, [4], 'root, old, deep, deep/er');

  writeFileSync(join(root, 'a.txt'), 'new');
  await w.until('create', has(w, 'a.txt'));
  writeFileSync(join(root, 'b.txt'), 'changed');
  await w.until('modify', has(w, 'b.txt'));
  unlinkSync(join(root, 'c.txt'));
  await w.until('delete', has(w, 'c.txt'));
  renameSync(join(root, 'd.txt'), join(root, 'e.txt'));
  await w.until('rename', has(w, 'd.txt', 'e.txt'));
  writeFileSync(join(root, 'deep/er/x.txt'), 'x2');
  await w.until('modify two levels down', has(w, 'deep/er/x.txt'));

  w.reset();
  mkdirSync(join(root, 'new/sub'), { recursive: true });
  writeFileSync(join(root, 'new/sub/f1.txt'), '1');
  writeFileSync(join(root, 'new/sub/f2.txt'), '2');
  await w.until('new subfolder with files', has(w, 'new', 'new/sub/f1.txt', 'new/sub/f2.txt'));
  w.reset();
  writeFileSync(join(root, 'new/sub/f3.txt'), '3');
  await w.until('the new subfolder is watched', has(w, 'new/sub/f3.txt'));
  assert.equal(w.watcher.watchedDirs(), 6);

  w.reset();
  renameSync(join(root, 'old'), join(root, 'moved'));
  await w.until('folder rename', has(w, 'old', 'moved'));
  w.reset();
  writeFileSync(join(root, 'moved/later.txt'), 'l');
  await w.until('a file in the renamed folder, under its new name', has(w, 'moved/later.txt'));
  assert.equal(w.seen.has('old/later.txt'), false, 'never under the old name');

  w.reset();
  rmSync(join(root, 'deep'), { recursive: true });
  await w.until('a removed folder', has(w, 'deep'));
  writeFileSync(join(root, 'sentinel'), 's');
  await w.until('sentinel', has(w, 'sentinel'));
  assert.equal(w.watcher.watchedDirs(), 4, 'root, new, new/sub, moved: the removed and renamed folders were dropped');
  assert.deepEqual(w.failures, []);
});

test('a folder\'s own change (its mtime set, as rclone 1.75 does) reports the folder, not a child of its name', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'same/x.txt': 'x' });
  const w = watchTree(t, root);
  await w.until('ready', () => w.readies.length === 1);
  const past = new Date(Date.UTC(2020, 0, 1));
  utimesSync(join(root, 'same'), past, past);
  writeFileSync(join(root, 'sentinel'), 's');
  // Each event is looked at (lstat) asynchronously, so the sentinel can be reported before the folder: wait for both.
  await w.until('the folder and the sentinel', () => w.seen.has('same') && w.seen.has('sentinel'));
  assert.deepEqual([...w.seen].sort(), ['same', 'sentinel']);
  w.reset();
  writeFileSync(join(root, 'same/same'), 'a child with the folder\'s name');
  await w.until('the child of that name', has(w, 'same/same'));
});

test('a root that is a symlink to a folder is watched as that folder', async (t) => {
  const dir = tempDir(t, 'rbm-watch-');
  writeFiles(join(dir, 'real'), { 'sub/a.txt': 'a' });
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  const w = watchTree(t, join(dir, 'link'));
  await w.until('ready', () => w.readies.length === 1);
  assert.deepEqual(w.readies, [2]);
  writeFileSync(join(dir, 'real/sub/b.txt'), 'b');
  await w.until('change', has(w, 'sub/b.txt'));
  assert.deepEqual(w.failures, []);
});

test('the workdir and the service\'s folders inside the root and what the caller ignores (the job\'s filters, rclone\'s .partial) never report', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { '.rbm-work/listing.lst': 'l', 'keep.txt': 'k', '.local/state/rbm/jobs/docs/history.jsonl': 'h', '.config/rbm/config.yaml': 'c' });
  const w = watchTree(t, root, { workdir: join(root, '.rbm-work'), barrierDir: join(root, '.rbm-barrier'), privateDirs: [join(root, '.local/state/rbm'), join(root, '.config/rbm'), '/elsewhere'], ignore: (p) => p.endsWith('.tmp') || p.endsWith('.partial') || p === 'cache' || p.startsWith('cache/') });
  await w.until('ready', () => w.readies.length === 1);
  assert.equal(w.watcher.watchedDirs(), 4, 'the workdir and the service\'s folders are not even watched (the root, .local, .local/state, .config are)');
  writeFileSync(join(root, '.local/state/rbm/jobs/docs/history.jsonl'), 'h2');
  writeFileSync(join(root, '.local/state/rbm/jobs/docs/state.json'), '{}');
  mkdirSync(join(root, '.local/state/rbm/logs'));
  writeFileSync(join(root, '.config/rbm/config.yaml'), 'c2');

  writeFileSync(join(root, 'keep.txt.3f2a9c1d.partial'), 'partial copy');
  renameSync(join(root, 'keep.txt.3f2a9c1d.partial'), join(root, 'renamed.txt.3f2a9c1d.partial'));
  writeFileSync(join(root, '.rbm-work/listing.lst'), 'l2');
  writeFileSync(join(root, '.rbm-work/new.lck'), 'lock');
  writeFileSync(join(root, 'scratch.tmp'), 't');
  mkdirSync(join(root, 'cache'));
  writeFileSync(join(root, 'cache/blob'), 'b');
  await w.watcher.settled(); // its barrier folder lies inside the root here: never reported either
  // inotify delivers in order: once the sentinel is reported, every event before it has been seen.
  writeFileSync(join(root, 'sentinel.txt'), 's');
  await w.until('sentinel', has(w, 'sentinel.txt'));
  assert.deepEqual([...w.seen].sort(), ['sentinel.txt']);
});

test('200 files moved in at once (a folder renamed into the root) give one run with the default watch_delay, carrying all 200 paths', async (t) => {
  const dir = tempDir(t, 'rbm-watch-');
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  const fired: { paths: string[]; cause: WatchTriggerCause }[] = [];
  let onFire = (): void => {};
  const trigger = createWatchTrigger({
    clock: systemClock,
    timing: DEFAULT_WATCH,
    trigger: (paths, cause) => {
      fired.push({ paths, cause });
      onFire();
    },
  });
  t.after(() => trigger.dispose());
  const w = watchTree(t, root, { onChange: (paths) => trigger.changed(paths) });
  await w.until('ready', () => w.readies.length === 1);
  // Written outside the root, however slowly the machine goes, then one rename: one event, one walk of the folder.
  const names = Array.from({ length: 200 }, (_, i) => `burst/file-${String(i).padStart(3, '0')}.txt`);
  mkdirSync(join(dir, 'burst'));
  for (const name of names) writeFileSync(join(dir, name), name);
  const firstFire = new Promise<void>((resolve) => (onFire = resolve));
  renameSync(join(dir, 'burst'), join(root, 'burst'));
  await firstFire;
  // A marker written after the first run was due: the next run carries only the marker (nothing of the burst was left).
  const secondFire = new Promise<void>((resolve) => (onFire = resolve));
  writeFileSync(join(root, 'marker.txt'), 'm');
  await secondFire;
  assert.equal(fired.length, 2);
  assert.deepEqual(fired[0]!.paths.sort(), ['burst', ...names].sort(), 'one run for the whole folder');
  assert.deepEqual(fired[1], { paths: ['marker.txt'], cause: 'watch' });
  assert.ok(fired.every((f) => f.cause === 'watch'));
});

test('settled() resolves only once every change made before it has been reported, a new folder\'s walk included', async (t) => {
  const dir = tempDir(t, 'rbm-watch-');
  const root = join(dir, 'root');
  writeFiles(root, { 'keep.txt': 'k' });
  const barrierDir = join(dir, 'barrier');
  const w = watchTree(t, root, { barrierDir });
  await w.until('ready', () => w.readies.length === 1);
  const names = Array.from({ length: 50 }, (_, i) => `moved/sub/f${i}.txt`);
  writeFiles(join(dir, 'staging'), Object.fromEntries(names.map((n) => [n, n])));
  renameSync(join(dir, 'staging/moved'), join(root, 'moved'));
  writeFileSync(join(root, 'keep.txt'), 'k2');
  await w.watcher.settled();
  // No other wait: the barrier is what made these visible.
  for (const p of ['moved', 'moved/sub', 'keep.txt', ...names]) assert.ok(w.seen.has(p), `${p} reported before settled() resolved`);
  assert.deepEqual(readdirSync(barrierDir), [], 'the barrier files are removed');
  assert.ok(![...w.seen].some((p) => p.includes('barrier')), 'the barrier never reports as a change');
  w.reset();
  await w.watcher.settled();
  assert.deepEqual([...w.seen], [], 'nothing changed since');
  assert.deepEqual(w.failures, []);
});

test('the root removed: root-gone, everything released; re-created: watched again', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'sub/a.txt': 'a' });
  const w = watchTree(t, root, { rootPollMs: 25 });
  await w.until('ready', () => w.readies.length === 1);
  rmSync(root, { recursive: true });
  await w.until('root-gone', () => w.failures.length === 1);
  assert.equal(w.failures[0]!.kind, 'root-gone');
  assert.match(w.failures[0]!.message, /is gone \(removed or unmounted\)/);
  assert.equal(w.watcher.watchedDirs(), 0);
  writeFiles(root, { 'back/b.txt': 'b' });
  await w.until('ready again', () => w.readies.length === 2);
  assert.equal(w.readies[1], 2);
  w.reset();
  writeFileSync(join(root, 'back/c.txt'), 'c');
  await w.until('changes after the return', has(w, 'back/c.txt'));
  assert.equal(w.failures.length, 1);
});

test('a root that does not exist yet: root-gone at start, watched once it appears', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'later');
  const w = watchTree(t, root, { rootPollMs: 25 });
  await w.until('root-gone', () => w.failures.length === 1);
  mkdirSync(root);
  await w.until('ready', () => w.readies.length === 1);
  writeFileSync(join(root, 'x'), 'x');
  await w.until('change', has(w, 'x'));
});

test('close() releases every FSWatcher and fires nothing afterwards', async (t) => {
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'a/1': '1', 'b/2': '2', 'c/d/3': '3' });
  // Closed handles leave the list in the loop's close phase, which follows the check phase: two turns.
  const settle = async (): Promise<void> => {
    await nextTurn();
    await nextTurn();
  };
  const fsHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
  await settle();
  const before = fsHandles();
  const w = watchTree(t, root);
  await w.until('ready', () => w.readies.length === 1);
  assert.equal(fsHandles() - before, 5);
  // A second watcher of the same tree sees the writes after the close: the proof that they were there to see.
  const witness = watchTree(t, root);
  await witness.until('ready', () => witness.readies.length === 1);
  w.watcher.close();
  await settle();
  assert.equal(fsHandles() - before, 5, 'only the witness\'s watches are left');
  assert.equal(w.watcher.watchedDirs(), 0);
  writeFileSync(join(root, 'a/after-close'), 'x');
  writeFileSync(join(root, 'sentinel'), 's');
  await witness.until('the witness saw both writes', has(witness, 'a/after-close', 'sentinel'));
  await witness.watcher.settled(); // a full loop turn after those events: the closed watcher's batch would be out by now
  assert.equal(w.batches.length, 0, 'the closed watcher reported nothing');
});

interface ProbeLine {
  event: string;
  failure?: TreeWatchFailure;
  watchedDirs?: number;
  fsHandles?: number;
  dirs?: number;
}

function runProbe(args: string[]): Promise<ProbeLine[]> {
  return new Promise((resolve, reject) => {
    execFile('unshare', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProbeLine));
    });
  });
}

function probeArgs(limitFile: string, limit: number, root: string, then = ''): string[] {
  // One shell line sets the namespace's own limit and then runs node: the host's limits stay as they are.
  return ['-U', '-r', 'sh', '-c', `echo ${limit} > /proc/sys/user/${limitFile} && exec "$0" --import tsx "$1" "$2" "$3"`, process.execPath, PROBE, root, then];
}

test('out of inotify watches (ENOSPC): a limit failure naming the sysctl, and everything released', async (t) => {
  if (!requireProgram(t, 'unshare')) return;
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d${i}/f.txt`, 'f'])));
  const lines = await runProbe(probeArgs('max_inotify_watches', 5, root));
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const [line] = lines;
  assert.equal(line!.event, 'failure');
  assert.equal(line!.failure!.kind, 'limit');
  assert.ok(line!.failure!.kind === 'limit' && line!.failure!.code === 'ENOSPC');
  assert.match(line!.failure!.message, /fs\.inotify\.max_user_watches/);
  assert.equal(line!.watchedDirs, 0);
  assert.equal(line!.fsHandles, 0);
  // The same tree within the limit is watched (the probe is not what fails).
  const ok = await runProbe(probeArgs('max_inotify_watches', 11, root));
  assert.deepEqual(ok, [{ event: 'ready', dirs: 11 }]);
});

test('out of inotify watches while running (a new folder): the same limit failure, everything released', async (t) => {
  if (!requireProgram(t, 'unshare')) return;
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'a/1.txt': '1', 'b/2.txt': '2' });
  const lines = await runProbe(probeArgs('max_inotify_watches', 3, root, 'then-mkdir'));
  assert.deepEqual(lines.map((l) => l.event), ['ready', 'failure'], JSON.stringify(lines));
  assert.equal(lines[0]!.dirs, 3);
  assert.ok(lines[1]!.failure!.kind === 'limit' && lines[1]!.failure!.code === 'ENOSPC');
  assert.equal(lines[1]!.watchedDirs, 0);
  assert.equal(lines[1]!.fsHandles, 0);
});

test('no inotify instance left (EMFILE): a limit failure naming the sysctl', async (t) => {
  if (!requireProgram(t, 'unshare')) return;
  const root = join(tempDir(t, 'rbm-watch-'), 'root');
  writeFiles(root, { 'a.txt': 'a' });
  const lines = await runProbe(probeArgs('max_inotify_instances', 0, root));
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.event, 'failure');
  assert.ok(lines[0]!.failure!.kind === 'limit' && lines[0]!.failure!.code === 'EMFILE');
  assert.match(lines[0]!.failure!.message, /fs\.inotify\.max_user_instances/);
  assert.equal(lines[0]!.watchedDirs, 0);
});
