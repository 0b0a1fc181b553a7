// The watcher for sync on change, chosen by measurement (issue 16 point 6): on a tree of 100,000 files in 10,000
// folders, each candidate in its own process (bench/watch-child.ts) gives its start-up time to ready, RSS growth,
// idle CPU over 10 s, inotify watches used (the `inotify wd:` lines of its inotify fds in /proc/PID/fdinfo), and
// whether it reports a new subfolder with a file in it, a file rename, a delete, and a file written into a folder
// right after that folder was renamed (under the new name).
//
// By hand: node --import tsx bench/watchers.ts [--candidates DIR] [--only ours,fs-recursive,chokidar,parcel]
//          [--files 100000] [--dirs 10000] [--markdown FILE]
// where DIR holds `npm install chokidar@4 @parcel/watcher` (a scratch directory outside the repository; without
// it only `ours` and `fs-recursive` run). `npm run bench` measures the watch on the service (bench/watch-cost.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleProcess } from './proc-stats.js';
import { renderMarkdown, renderText, rowValue, section, type SectionResult } from './report.js';

export type WatcherImpl = 'ours' | 'fs-recursive' | 'chokidar' | 'parcel' | 'none';

export interface WatcherResult {
  impl: WatcherImpl;
  startupMs: number;
  rssLoadedMiB: number;
  rssReadyMiB: number;
  rssIdleMiB: number;
  idleCpuMs: number;
  watches: number;
  checks: Record<string, boolean>;
  errors: string[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const IDLE_SECONDS = 10;
// V8's memory reducer gives back the heap a start-up walk grew (new space) about 20 s after the burst: the figures
// are taken after it, in the steady state a long-running service is in.
const SETTLE_SECONDS = 30;
const CHECK_TIMEOUT_MS = 5000;

/** `files` files in `dirs` folders: 100 top folders with (dirs/100 - 1) subfolders each, files spread evenly. */
export function buildTree(root: string, files: number, dirs: number): void {
  const tops = Math.min(100, dirs);
  const subsPerTop = Math.max(0, Math.floor(dirs / tops) - 1);
  const folders: string[] = [];
  for (let t = 0; t < tops; t++) {
    const top = join(root, `d${String(t).padStart(3, '0')}`);
    folders.push(top);
    for (let s = 0; s < subsPerTop; s++) folders.push(join(top, `s${String(s).padStart(2, '0')}`));
  }
  for (const f of folders) mkdirSync(f, { recursive: true });
  const perFolder = Math.ceil(files / folders.length);
  let written = 0;
  for (const f of folders) {
    for (let i = 0; i < perFolder && written < files; i++, written++) writeFileSync(join(f, `f${i}.txt`), `${written}\n`);
  }
}

/** inotify watches held by `pid`: the `inotify wd:` lines of every inotify fd it has open. */
export function inotifyWatches(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    count += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return count;
}

interface Child {
  proc: ChildProcess;
  seen: Set<string>;
  errors: string[];
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  next(event: string): Promise<Record<string, unknown>>;
}

function startChild(impl: WatcherImpl, root: string, candidates: string | undefined): Child {
  const script = FROM_SOURCE ? [join(HERE, 'watch-child.ts')] : [join(HERE, 'watch-child.js')];
  const args = [...(FROM_SOURCE ? ['--import', 'tsx'] : []), ...script, impl, root, ...(candidates ? [candidates] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const seen = new Set<string>();
  const errors: string[] = [];
  const listeners: (() => void)[] = [];
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      if (line.event === 'change') for (const p of line.paths as string[]) seen.add(p);
      else if (line.event === 'error') errors.push(String(line.message));
      else events.push(line);
      for (const l of [...listeners]) l();
    }
  });
  const waitFor = (predicate: () => boolean, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (predicate()) return resolve(true);
      const listener = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(listener), 1);
        resolve(true);
      };
      const timer = setTimeout(() => {
        listeners.splice(listeners.indexOf(listener), 1);
        resolve(false);
      }, timeoutMs);
      listeners.push(listener);
    });
  return {
    proc,
    seen,
    errors,
    waitFor,
    async next(event) {
      const ok = await waitFor(() => events.some((e) => e.event === event), 15 * 60_000);
      if (!ok) throw new Error(`${impl}: no ${event}`);
      return events.find((e) => e.event === event)!;
    },
  };
}

const rssMiB = (pid: number): number => sampleProcess(pid).rssKiB / 1024;

/** File operations after ready, and whether the watcher reported each under the right relative path. */
async function correctness(child: Child, root: string): Promise<Record<string, boolean>> {
  const checks: Record<string, boolean> = {};
  const expect = (...paths: string[]) => () => paths.every((p) => child.seen.has(p));

  mkdirSync(join(root, 'zz-new/sub'), { recursive: true });
  writeFileSync(join(root, 'zz-new/sub/file.txt'), 'new');
  checks['new subfolder with a file'] = await child.waitFor(expect('zz-new/sub/file.txt'), CHECK_TIMEOUT_MS);

  renameSync(join(root, 'd000/f0.txt'), join(root, 'd000/f0-renamed.txt'));
  checks['file rename (old and new name)'] = await child.waitFor(expect('d000/f0.txt', 'd000/f0-renamed.txt'), CHECK_TIMEOUT_MS);

  unlinkSync(join(root, 'd001/f1.txt'));
  checks['delete'] = await child.waitFor(expect('d001/f1.txt'), CHECK_TIMEOUT_MS);

  renameSync(join(root, 'd002'), join(root, 'd002-moved'));
  checks['folder rename'] = await child.waitFor(expect('d002', 'd002-moved'), CHECK_TIMEOUT_MS);
  await sleep(200); // the bench, unlike the tests, gives every candidate the same short head start
  writeFileSync(join(root, 'd002-moved/after.txt'), 'after');
  checks['write in a renamed folder, new name'] = await child.waitFor(expect('d002-moved/after.txt'), CHECK_TIMEOUT_MS);
  checks['… never under the old name'] = !child.seen.has('d002/after.txt');
  return checks;
}

/** Undo what correctness() did, so the next candidate sees the same tree. */
function restoreTree(root: string): void {
  rmSync(join(root, 'zz-new'), { recursive: true, force: true });
  renameSync(join(root, 'd000/f0-renamed.txt'), join(root, 'd000/f0.txt'));
  writeFileSync(join(root, 'd001/f1.txt'), 'restored\n');
  unlinkSync(join(root, 'd002-moved/after.txt'));
  renameSync(join(root, 'd002-moved'), join(root, 'd002'));
}

export async function measureWatcher(
  impl: WatcherImpl,
  root: string,
  options: { candidates?: string; idleSeconds?: number; settleSeconds?: number; checks?: boolean } = {},
): Promise<WatcherResult> {
  const child = startChild(impl, root, options.candidates);
  try {
    const pid = child.proc.pid!;
    await child.next('loaded');
    const rssLoadedMiB = rssMiB(pid);
    const ready = await child.next('ready');
    const rssReadyMiB = rssMiB(pid);
    const watches = inotifyWatches(pid);
    await sleep((options.settleSeconds ?? SETTLE_SECONDS) * 1000); // start-up work settles (GC, memory reducer) first
    const a = sampleProcess(pid);
    await sleep((options.idleSeconds ?? IDLE_SECONDS) * 1000);
    const b = sampleProcess(pid);
    const checks = options.checks === false || impl === 'none' ? {} : await correctness(child, root);
    if (options.checks !== false && impl !== 'none') restoreTree(root);
    return {
      impl,
      startupMs: Number(ready.ms),
      rssLoadedMiB,
      rssReadyMiB,
      rssIdleMiB: b.rssKiB / 1024,
      idleCpuMs: (b.cpuNs - a.cpuNs) / 1e6,
      watches,
      checks,
      errors: child.errors.slice(0, 3),
    };
  } finally {
    child.proc.stdin!.end();
    await new Promise((resolve) => (child.proc.exitCode !== null ? resolve(undefined) : child.proc.once('exit', resolve)));
  }
}

function comparisonSection(results: readonly WatcherResult[], files: number, dirs: number): SectionResult {
  const s = section('watchers', `Watchers on ${files} files in ${dirs} folders`);
  const bare = results.find((r) => r.impl === 'none');
  for (const r of results) {
    s.rows.push(
      rowValue(`${r.impl}: start-up to ready`, 'ms', r.startupMs),
      rowValue(`${r.impl}: RSS when ready`, 'MiB', r.rssReadyMiB),
      rowValue(`${r.impl}: RSS after ${SETTLE_SECONDS + IDLE_SECONDS} s idle`, 'MiB', r.rssIdleMiB),
      ...(bare && r !== bare ? [rowValue(`${r.impl}: RSS added (idle, vs bare Node)`, 'MiB', r.rssIdleMiB - bare.rssIdleMiB)] : []),
      rowValue(`${r.impl}: idle CPU over ${IDLE_SECONDS} s`, 'ms', r.idleCpuMs),
      rowValue(`${r.impl}: inotify watches`, 'count', r.watches),
    );
    const failed = Object.entries(r.checks).filter(([, ok]) => !ok).map(([name]) => name);
    s.notes.push(`${r.impl}: ${Object.keys(r.checks).length - failed.length}/${Object.keys(r.checks).length} checks${failed.length ? ` (missed: ${failed.join('; ')})` : ''}${r.errors.length ? `; errors: ${r.errors.join(' | ')}` : ''}`);
  }
  return s;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      candidates: { type: 'string', default: process.env.RBM_WATCH_CANDIDATES },
      only: { type: 'string' },
      files: { type: 'string', default: '100000' },
      dirs: { type: 'string', default: '10000' },
      markdown: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const files = Number(values.files);
  const dirs = Number(values.dirs);
  const all: WatcherImpl[] = values.candidates ? ['none', 'ours', 'fs-recursive', 'chokidar', 'parcel'] : ['none', 'ours', 'fs-recursive'];
  const impls = values.only ? (values.only.split(',') as WatcherImpl[]) : all;
  const tmp = mkdtempSync(join(tmpdir(), 'rbm-watchers-'));
  try {
    const root = join(tmp, 'tree');
    console.error(`building ${files} files in ${dirs} folders`);
    buildTree(root, files, dirs);
    const results: WatcherResult[] = [];
    for (const impl of impls) {
      console.error(`measuring ${impl}`);
      results.push(await measureWatcher(impl, root, values.candidates ? { candidates: values.candidates } : {}));
    }
    const report = comparisonSection(results, files, dirs);
    if (values.json) console.log(JSON.stringify(results, null, 2));
    else console.log(renderText([report]));
    if (values.markdown) writeFileSync(values.markdown, renderMarkdown([report]));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
