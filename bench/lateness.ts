// Measure 2: scheduling lateness = rclone's spawn time − the cron instant it belongs to, for a job that runs every
// second (`* * * * * *`), with 0 and with 4 other jobs syncing. The spawn time is recorded by the wrapper given as
// rclone_binary (bash $EPOCHREALTIME, then exec with the argv untouched), so it includes bash's start-up (~1 ms).
// A spawn whose instant fell while the job's previous run was still going is a coalesced trigger, not lateness:
// it is counted apart.

import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { connectClient } from './client.js';
import { copyTree, makeTree } from './fixtures.js';
import { isBisync, readSpawnRecords, writeSpawnWrapper } from './rclone.js';
import type { SpawnRecord } from './rclone.js';
import { goalAtMost, rowFrom, rowValue, section } from './report.js';
import type { SectionResult } from './report.js';
import type { JobSpec } from './service.js';
import { summarize } from './stats.js';

const EVERY_SECOND = '* * * * * *';

interface ConditionResult {
  lateness: number[];
  coalesced: number;
  busyAtSpawn: number[];
  busyRunMs: number[];
}

/** ms after the whole second the spawn belongs to; a spawn just before a second counts as early (negative). */
function latenessOf(realtimeMs: number): { instant: number; ms: number } {
  const floor = Math.floor(realtimeMs / 1000) * 1000;
  const frac = realtimeMs - floor;
  // A timer may fire a hair before its instant on the wall clock (ms rounding); anything else later in the second is
  // late, however late: a wider "early" window would hide spawns that came 0.9 s after their instant.
  return frac > 990 ? { instant: floor + 1000, ms: frac - 1000 } : { instant: floor, ms: frac };
}

async function runCondition(ctx: BenchContext, busyCount: number, runs: number, busyFiles: number): Promise<ConditionResult> {
  const world = ctx.world(`lateness-${busyCount}`);
  const remoteRoot = join(world.dir, 'remote');
  mkdirSync(remoteRoot, { recursive: true });
  const jobs: JobSpec[] = [];
  const path1Of = new Map<string, string>();
  const addJob = (name: string, seed: string): void => {
    const path1 = join(world.syncRoot, name);
    copyTree(seed, path1);
    copyTree(seed, join(remoteRoot, name));
    path1Of.set(name, path1);
    jobs.push({ name, local: name, path2: join(remoteRoot, name), schedule: EVERY_SECOND });
  };
  const lateSeed = join(world.dir, 'seed-late');
  makeTree(lateSeed, 10);
  addJob('late', lateSeed);
  if (busyCount > 0) {
    const busySeed = join(world.dir, 'seed-busy');
    makeTree(busySeed, busyFiles);
    for (let i = 0; i < busyCount; i++) addJob(`busy${i}`, busySeed);
  }
  const spawnLog = join(world.dir, 'spawns.log');
  world.writeConfig(jobs, { rcloneBinary: writeSpawnWrapper(world.dir, ctx.rclone.path, spawnLog), maxParallel: 8 });

  const client = await connectClient(ctx.bus.address);
  const finishes: { job: string; at: number }[] = [];
  client.onSignal('JobFinished', (args) => finishes.push({ job: String(args[1]), at: Date.now() }));
  const svc = world.start();
  const jobOf = (r: SpawnRecord): string | undefined => [...path1Of].find(([, p]) => p === r.argv[1])?.[0];
  const normal = (r: SpawnRecord): boolean => isBisync(r) && !r.argv.includes('--resync');
  let from = Number.POSITIVE_INFINITY;
  let measured: SpawnRecord[] = [];
  let reported = 0;
  const lateSpawnTimes = (): number[] => readSpawnRecords(spawnLog).filter((r) => isBisync(r) && jobOf(r) === 'late').map((r) => r.realtimeMs);
  // A spawn is coalesced when its cron instant fell while the previous run of 'late' was still going.
  const isCoalesced = (spawnMs: number, spawns: readonly number[]): boolean => {
    const { instant } = latenessOf(spawnMs);
    const prevSpawn = spawns.filter((t) => t < spawnMs).at(-1);
    const prevEnd = prevSpawn === undefined ? undefined : finishes.find((f) => f.job === 'late' && f.at >= prevSpawn)?.at;
    return prevEnd !== undefined && prevEnd > instant;
  };
  let onTime = 0;
  try {
    await svc.ready();
    const deadline = Date.now() + 120_000 + runs * 3_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`only ${onTime} of ${runs} scheduled runs of 'late' (${measured.length} spawns) within the time limit`);
      await sleep(500);
      const records = readSpawnRecords(spawnLog).filter(normal);
      if (from === Number.POSITIVE_INFINITY) {
        // Start counting once every job is past its first resync (--quick: has started) and 'late' has had normal runs.
        const skipFirst = ctx.quick ? 1 : 2;
        const seen = new Map<string, number>();
        for (const r of (ctx.quick ? readSpawnRecords(spawnLog).filter(isBisync) : records)) {
          const job = jobOf(r);
          if (job !== undefined) seen.set(job, (seen.get(job) ?? 0) + 1);
        }
        if ([...path1Of.keys()].every((j) => (seen.get(j) ?? 0) > 0) && (seen.get('late') ?? 0) >= skipFirst) from = Date.now();
        continue;
      }
      measured = records.filter((r) => jobOf(r) === 'late' && r.realtimeMs >= from);
      // Collect until `runs` spawns were on their own instant (coalesced ones are counted apart); the newest spawn is
      // left out as its predecessor's JobFinished may still be on its way.
      const spawns = lateSpawnTimes();
      onTime = measured.slice(0, -1).filter((r) => !isCoalesced(r.realtimeMs, spawns)).length;
      if (onTime >= runs) break;
      if (Math.floor(onTime / 20) > reported) {
        reported = Math.floor(onTime / 20);
        ctx.progress(`lateness: ${onTime}/${runs} runs with ${busyCount} other jobs syncing`);
      }
    }
  } finally {
    await svc.stop();
    client.close();
  }
  const all = readSpawnRecords(spawnLog).filter(isBisync);
  // Busy intervals: each busy bisync spawn until the next JobFinished of that job.
  const intervals: { job: string; start: number; end: number }[] = [];
  for (const r of all) {
    const job = jobOf(r);
    if (job === undefined || job === 'late') continue;
    const end = finishes.find((f) => f.job === job && f.at >= r.realtimeMs)?.at ?? Number.POSITIVE_INFINITY;
    intervals.push({ job, start: r.realtimeMs, end });
  }
  const lateSpawns = all.filter((r) => jobOf(r) === 'late').map((r) => r.realtimeMs);
  const out: ConditionResult = { lateness: [], coalesced: 0, busyAtSpawn: [], busyRunMs: [] };
  for (const r of measured) {
    if (out.lateness.length >= runs) break;
    if (isCoalesced(r.realtimeMs, lateSpawns)) {
      out.coalesced++;
      continue;
    }
    out.lateness.push(latenessOf(r.realtimeMs).ms);
    out.busyAtSpawn.push(new Set(intervals.filter((i) => i.start <= r.realtimeMs && r.realtimeMs < i.end).map((i) => i.job)).size);
  }
  out.busyRunMs = intervals.filter((i) => Number.isFinite(i.end) && i.start >= from).map((i) => i.end - i.start);
  return out;
}

export async function measureLateness(ctx: BenchContext): Promise<SectionResult> {
  const s = section('lateness', '2. Scheduling lateness: cron instant → rclone spawn');
  const runs = ctx.quick ? 3 : 100;
  const busyFiles = ctx.quick ? 100 : 10_000;
  for (const busy of [0, 4]) {
    ctx.progress(`lateness: ${runs} runs of an every-second job with ${busy} other jobs syncing`);
    const r = await runCondition(ctx, busy, runs, busyFiles);
    const label = `${busy} other jobs syncing`;
    s.rows.push(rowFrom(`${label}: lateness`, 'ms', r.lateness, { percentiles: true }));
    s.rows.push(rowValue(`${label}: coalesced triggers (previous run still going)`, 'count', r.coalesced));
    if (busy > 0) {
      s.rows.push(rowFrom(`${label}: other jobs in a run at each measured spawn`, 'count', r.busyAtSpawn));
      s.rows.push(rowFrom(`${label}: duration of the other jobs' runs`, 'ms', r.busyRunMs));
    }
    s.goals.push(goalAtMost(`lateness p99, ${label}`, summarize(r.lateness).p99, 50, 'ms'));
  }
  s.notes.push(`The other jobs sync ${busyFiles.toLocaleString('en-US')}-file trees every second (max_parallel_jobs 8), so they are busy most of the time on this 2-core machine.`);
  s.notes.push('Spawn times come from a bash wrapper (rclone_binary) and include its start-up (~1 ms).');
  return s;
}
