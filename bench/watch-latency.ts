// Measure 10: sync on change, propagation latency (issue 16). The real service with `watch: true` and the default
// settings, a 10,000-file tree (100 folders × 100 files of 1 KiB), local↔local and local↔sftp (`rclone serve sftp`
// on 127.0.0.1). Each edit is timed from the write to the new content on the other side, one after the other (the
// next edit once the job is idle again), and split at the JobStarted signal (rclone spawned): before it, the quiet
// period and the service's work before rclone; after it, rclone up to the copy. In the same session, next to it: the
// service's own bisync argv for the job run directly after a one-file edit (plain rclone, the floor of a watch run),
// so that the figure reads as quiet period + k × plain rclone. Two more variants show what moves it: watch_delay 0.5 s
// locally, and over sftp without the checksum compare (1 s modtimes: the default compares checksums there).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { connectClient, jobStatus, type BusClient } from './client.js';
import { copyTree, FILES_PER_DIR, makeTree } from './fixtures.js';
import { toJson } from './json.js';
import { isBisync, readSpawnRecords, runDirect, writeSpawnWrapper } from './rclone.js';
import { goalAtMost, rowFrom, rowValue, section, type SectionResult } from './report.js';
import { farSchedule, type JobSpec, type World } from './service.js';
import { summarize } from './stats.js';
import { timedSync } from './sync-call.js';

const GOOD = new Set(['success', 'no-changes']);
/** The default quiet period (src/config/watch-settings.ts DEFAULT_WATCH). */
const DEFAULT_DELAY_MS = 1000;
const EDIT_TIMEOUT_MS = 300_000;

interface Variant {
  /** Row label. */
  label: string;
  edits: number;
  delayMs: number;
  checksumCompare: boolean;
  goal: boolean;
}

interface Pair {
  name: string;
  world: World;
  job: JobSpec;
  path1: string;
  /** The other side as a local directory (the sftp server's own folder for sftp). */
  otherSide: string;
  files: number;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The edited file of edit `i`: spread over the folders of the fixture tree (fixtures.ts names). */
function editedFile(files: number, i: number): string {
  const index = (i * 7919) % files;
  return join(`d${String(Math.floor(index / FILES_PER_DIR)).padStart(4, '0')}`, `f${String(index).padStart(6, '0')}.txt`);
}

async function syncOk(client: BusClient, job: string): Promise<void> {
  const r = await timedSync(client, job);
  if (!GOOD.has(r.result)) throw new Error(`Sync ${job} finished with ${r.result}: ${toJson(r.details)}`);
}

function jobLines(variant: Pick<Variant, 'delayMs' | 'checksumCompare'>, watch: boolean): string[] {
  const lines = [`    watch: ${watch}`];
  if (variant.delayMs !== DEFAULT_DELAY_MS) lines.push(`    watch_delay: ${variant.delayMs}ms`);
  if (!variant.checksumCompare) lines.push('    checksum_compare: false');
  return lines;
}

/** Resync and one bisync through a spawn-recording wrapper (watch off): the bisync argv the service uses for the job. */
async function learnArgv(ctx: BenchContext, pair: Pair, variant: Variant): Promise<string[]> {
  const spawnLog = join(pair.world.dir, 'spawns.log');
  pair.world.writeConfig([{ ...pair.job, extraLines: jobLines(variant, false) }], { rcloneBinary: writeSpawnWrapper(pair.world.dir, ctx.rclone.path, spawnLog) });
  const svc = pair.world.start();
  await svc.ready();
  const client = await connectClient(ctx.bus.address);
  try {
    ctx.progress(`latency: ${pair.name}: first runs (resync, bisync)`);
    await syncOk(client, pair.job.name);
    await syncOk(client, pair.job.name);
  } finally {
    client.close();
    await svc.stop();
  }
  const argv = readSpawnRecords(spawnLog).filter((r) => isBisync(r) && r.argv[1] === pair.path1).at(-1)?.argv;
  if (!argv || argv.includes('--resync')) throw new Error(`no plain bisync recorded for ${pair.name}`);
  return argv;
}

interface EditTimes {
  total: number[];
  beforeRclone: number[];
  rclone: number[];
}

/** `variant.edits` edits, each timed from the write to the new content on the other side. */
async function timeEdits(ctx: BenchContext, pair: Pair, variant: Variant, round: { next: number }): Promise<EditTimes> {
  pair.world.writeConfig([{ ...pair.job, extraLines: jobLines(variant, true) }], { rcloneBinary: ctx.rclone.path });
  const svc = pair.world.start();
  await svc.ready();
  const client = await connectClient(ctx.bus.address);
  const started: { at: number; runId: bigint }[] = [];
  const finished = new Set<bigint>();
  const offStarted = client.onSignal('JobStarted', (args) => started.push({ at: performance.now(), runId: args[2] as bigint }));
  const offFinished = client.onSignal('JobFinished', (args) => finished.add(args[2] as bigint));
  const times: EditTimes = { total: [], beforeRclone: [], rclone: [] };
  try {
    await until(`the watch of ${pair.name}`, async () => (await jobStatus(client, pair.job.name)).watch === 'watching', 120_000, 50);
    for (let i = 0; i < variant.edits; i++) {
      const rel = editedFile(pair.files, round.next++);
      const text = `edit ${round.next} at ${Date.now()}\n`;
      const from = started.length;
      const t0 = performance.now();
      writeFileSync(join(pair.path1, rel), text);
      await until(`edit ${i} of ${variant.label} on the other side`, () => readOr(join(pair.otherSide, rel)) === text, EDIT_TIMEOUT_MS, 5);
      const t1 = performance.now();
      const run = started[from];
      if (run === undefined) throw new Error(`${variant.label}: the edit arrived without a run`);
      times.total.push(t1 - t0);
      times.beforeRclone.push(run.at - t0);
      times.rclone.push(t1 - run.at);
      // The next edit once this run has ended and nothing else runs or waits.
      await until(`the run of edit ${i} to end`, async () => finished.has(run.runId) && !(await jobStatus(client, pair.job.name)).busy, EDIT_TIMEOUT_MS, 20);
    }
  } finally {
    offStarted();
    offFinished();
    client.close();
    await svc.stop();
  }
  return times;
}

/** The job's bisync argv run directly (service stopped, so no watch), each after a one-file edit: plain rclone. */
async function timePlain(ctx: BenchContext, pair: Pair, argv: readonly string[], runs: number, round: { next: number }): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    writeFileSync(join(pair.path1, editedFile(pair.files, round.next++)), `direct ${round.next} at ${Date.now()}\n`);
    const r = await runDirect(ctx.rclone.path, argv, pair.world.env);
    if (r.code !== 0) throw new Error(`direct rclone for ${pair.name} exited with ${r.code}`);
    samples.push(r.ms);
  }
  return samples;
}

function report(s: SectionResult, variant: Variant, times: EditTimes, plain: number[], plainArgvHasChecksum: boolean): void {
  const { label } = variant;
  s.rows.push(
    rowFrom(`${label}: edit → file on the other side`, 'ms', times.total, { percentiles: true }),
    rowFrom(`${label}: edit → JobStarted (quiet period, the service's work before rclone)`, 'ms', times.beforeRclone, { percentiles: true }),
    rowFrom(`${label}: JobStarted → file on the other side (rclone)`, 'ms', times.rclone, { percentiles: true }),
    rowFrom(`${label}: plain rclone bisync, one file changed${plainArgvHasChecksum ? ' (with --compare checksum, as the service)' : ''}`, 'ms', plain),
  );
  const total = summarize(times.total);
  const plainMedian = summarize(plain).median;
  s.rows.push(rowValue(`${label}: (median − watch_delay) ÷ plain rclone`, 'ratio', (total.median - variant.delayMs) / plainMedian, `${variant.delayMs} ms + ${((total.median - variant.delayMs) / plainMedian).toFixed(2)} × ${plainMedian.toFixed(0)} ms`));
  if (variant.goal) {
    s.goals.push(goalAtMost(`propagation latency median, ${label}`, total.median, 1500, 'ms'));
    s.goals.push(goalAtMost(`propagation latency p99, ${label}`, total.p99, 3000, 'ms'));
  }
}

export async function measureWatchLatency(ctx: BenchContext): Promise<SectionResult> {
  const s = section('latency', '10. Sync on change: propagation latency, local edit → file on the other side');
  const files = ctx.quick ? 150 : 10_000;
  const edits = ctx.quick ? 3 : 20;
  const extraEdits = ctx.quick ? 0 : 10;
  const plainRuns = ctx.quick ? 1 : 5;
  const sftp = await ctx.sftp();
  const schedule = farSchedule();
  const round = { next: 1 };
  const pairs: { pair: Pair; variants: Variant[] }[] = [];
  const count = files.toLocaleString('en-US');
  {
    const world = ctx.world('latency-local');
    const job: JobSpec = { name: 'll', local: 'll', path2: join(world.dir, 'remote', 'll'), schedule };
    const pair = { name: 'local↔local', world, job, path1: join(world.syncRoot, 'll'), otherSide: job.path2, files };
    pairs.push({ pair, variants: [
      { label: `${count} files local↔local, default settings`, edits, delayMs: DEFAULT_DELAY_MS, checksumCompare: true, goal: true },
      ...(extraEdits > 0 ? [{ label: `${count} files local↔local, watch_delay 0.5 s`, edits: extraEdits, delayMs: 500, checksumCompare: true, goal: false }] : []),
    ] });
  }
  {
    const world = ctx.world('latency-sftp', { rcloneConfig: sftp.rcloneConfig });
    const job: JobSpec = { name: 'ls', local: 'ls', remote: sftp.remote, path2: 'latency-ls', schedule };
    const pair = { name: 'local↔sftp', world, job, path1: join(world.syncRoot, 'ls'), otherSide: join(sftp.root, 'latency-ls'), files };
    pairs.push({ pair, variants: [
      { label: `${count} files local↔sftp, default settings`, edits, delayMs: DEFAULT_DELAY_MS, checksumCompare: true, goal: true },
      ...(extraEdits > 0 ? [{ label: `${count} files local↔sftp, checksum_compare: false`, edits: extraEdits, delayMs: DEFAULT_DELAY_MS, checksumCompare: false, goal: false }] : []),
    ] });
  }
  for (const { pair, variants } of pairs) {
    ctx.progress(`latency: ${pair.name}: building a ${count}-file tree`);
    makeTree(pair.path1, files);
    copyTree(pair.path1, pair.otherSide);
    for (const variant of variants) {
      const argv = await learnArgv(ctx, pair, variant);
      ctx.progress(`latency: ${variant.label}: ${variant.edits} edits`);
      const times = await timeEdits(ctx, pair, variant, round);
      ctx.progress(`latency: ${variant.label}: ${plainRuns} plain rclone runs`);
      const plain = await timePlain(ctx, pair, argv, plainRuns, round);
      report(s, variant, times, plain, argv.some((a) => a.startsWith('--compare') && a.includes('checksum')));
    }
  }
  s.notes.push('Each edit rewrites one 1 KiB file with new content; the next edit waits until the job is idle again. JobStarted is sent once rclone is spawned.');
  s.notes.push('plain rclone = the bisync argv the service spawns for the job (learned through a recording wrapper), run directly after a one-file edit with the service stopped, output discarded.');
  return s;
}
