// Measure 1: service overhead per sync = (Sync call → JobFinished) ÷ (the same `rclone bisync` argv run directly).
// The argv comes from the service itself: a first service instance runs each job through a spawn-recording
// wrapper (resync, then one bisync) and the last bisync argv is kept; a second instance with the real rclone as
// rclone_binary (same state) is then timed against direct runs of that argv, alternating which goes first.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { connectClient } from './client.js';
import type { BusClient } from './client.js';
import { changeFiles, copyTree, makeTree } from './fixtures.js';
import { isBisync, readSpawnRecords, runDirect, writeSpawnWrapper } from './rclone.js';
import { goalAtMost, rowFrom, rowValue, section } from './report.js';
import type { SectionResult } from './report.js';
import { farSchedule } from './service.js';
import type { JobSpec } from './service.js';
import { toJson } from './json.js';
import { summarize } from './stats.js';
import { timedSync } from './sync-call.js';

interface Case {
  label: string;
  job: string;
  files: number;
  changed: number;
  runs: number;
  goal: boolean;
}

/** Outcomes of a sync that did its job. */
const GOOD = new Set(['success', 'no-changes']);

async function syncOk(client: BusClient, job: string): Promise<number> {
  const r = await timedSync(client, job);
  if (!GOOD.has(r.result)) throw new Error(`Sync ${job} finished with ${r.result}: ${toJson(r.details)}`);
  return r.ms;
}

export async function measureOverhead(ctx: BenchContext): Promise<SectionResult> {
  const s = section('overhead', '1. Service overhead per sync: Sync → JobFinished ÷ direct rclone bisync');
  const quick = ctx.quick;
  const sftp = await ctx.sftp();
  const world = ctx.world('overhead', { rcloneConfig: sftp.rcloneConfig });
  const small = quick ? 150 : 1_000;
  const trees: { job: string; files: number; sftp: boolean }[] = [
    { job: 'l1k', files: small, sftp: false },
    ...(quick ? [] : [{ job: 'l10k', files: 10_000, sftp: false }]),
    { job: 's1k', files: small, sftp: true },
  ];
  const jobs: JobSpec[] = [];
  const schedule = farSchedule();
  ctx.progress(`overhead: building ${trees.map((t) => t.files).join(' + ')} file trees`);
  for (const t of trees) {
    const path1 = join(world.syncRoot, t.job);
    makeTree(path1, t.files);
    if (t.sftp) {
      copyTree(path1, join(sftp.root, t.job));
      jobs.push({ name: t.job, local: t.job, remote: sftp.remote, path2: t.job, schedule });
    } else {
      const path2 = join(world.dir, 'remote', t.job);
      mkdirSync(join(world.dir, 'remote'), { recursive: true });
      copyTree(path1, path2);
      jobs.push({ name: t.job, local: t.job, path2, schedule });
    }
  }

  // Phase 1: learn the argv the service uses (resync first, then a normal bisync per job).
  const spawnLog = join(world.dir, 'spawns.log');
  const wrapper = writeSpawnWrapper(world.dir, ctx.rclone.path, spawnLog);
  world.writeConfig(jobs, { rcloneBinary: wrapper, maxParallel: 4 });
  const argvOf = new Map<string, string[]>();
  {
    const svc = world.start();
    await svc.ready();
    const client = await connectClient(ctx.bus.address);
    try {
      for (const t of trees) {
        ctx.progress(`overhead: first runs of ${t.job} (resync, bisync)`);
        await syncOk(client, t.job);
        await syncOk(client, t.job);
        const path1 = join(world.syncRoot, t.job);
        const record = readSpawnRecords(spawnLog)
          .filter((r) => isBisync(r) && r.argv[1] === path1)
          .at(-1);
        if (!record) throw new Error(`the service spawned no rclone bisync for ${t.job}`);
        if (record.argv.includes('--resync')) throw new Error(`the second run of ${t.job} was still a resync: ${record.argv.join(' ')}`);
        argvOf.set(t.job, record.argv);
      }
    } finally {
      client.close();
      await svc.stop();
    }
  }
  s.notes.push(`argv (1,000-file local job, as spawned by the service): rclone ${(argvOf.get('l1k') ?? []).map((a) => a.replace(world.dir, '…')).join(' ')}`);

  // Phase 2: the same state with the real rclone as rclone_binary; service and direct runs alternate.
  world.writeConfig(jobs, { rcloneBinary: ctx.rclone.path, maxParallel: 4 });
  const svc = world.start();
  await svc.ready();
  const client = await connectClient(ctx.bus.address);
  const cases: Case[] = [];
  // The goal is for 10,000 files; --quick checks it on its largest local tree.
  const biggestLocal = trees.filter((t) => !t.sftp).at(-1);
  for (const t of trees) {
    const where = t.sftp ? 'local↔sftp' : 'local↔local';
    const runs = quick ? 1 : t.sftp ? 5 : t.files >= 10_000 ? 7 : 9;
    const files = t.files.toLocaleString('en-US');
    cases.push({ label: `${files} files ${where}, no change`, job: t.job, files: t.files, changed: 0, runs, goal: t === biggestLocal });
    cases.push({ label: `${files} files ${where}, 100 changed`, job: t.job, files: t.files, changed: 100, runs, goal: t === biggestLocal });
  }
  let round = 1;
  try {
    for (const c of cases) {
      ctx.progress(`overhead: ${c.label}, ${c.runs} runs each`);
      const argv = argvOf.get(c.job)!;
      const path1 = join(world.syncRoot, c.job);
      const service: number[] = [];
      const direct: number[] = [];
      const beforeSpawn: number[] = [];
      const runService = async (): Promise<number> => {
        if (c.changed > 0) changeFiles(path1, c.files, c.changed, round++);
        const r = await timedSync(client, c.job);
        if (!GOOD.has(r.result)) throw new Error(`Sync ${c.job} finished with ${r.result}: ${toJson(r.details)}`);
        if (!Number.isNaN(r.startedMs)) beforeSpawn.push(r.startedMs);
        return r.ms;
      };
      const runPlain = async (): Promise<number> => {
        if (c.changed > 0) changeFiles(path1, c.files, c.changed, round++);
        const r = await runDirect(ctx.rclone.path, argv, world.env);
        if (r.code !== 0) throw new Error(`direct rclone ${c.job} exited with ${r.code}`);
        return r.ms;
      };
      if (!quick) {
        await runService(); // warm-up, not counted
        await runPlain();
      }
      for (let i = 0; i < c.runs; i++) {
        if (i % 2 === 0) {
          service.push(await runService());
          direct.push(await runPlain());
        } else {
          direct.push(await runPlain());
          service.push(await runService());
        }
      }
      const ms = summarize(service).median;
      const md = summarize(direct).median;
      s.rows.push(rowFrom(`${c.label}: service Sync → JobFinished`, 'ms', service));
      s.rows.push(rowFrom(`${c.label}: rclone bisync direct`, 'ms', direct));
      if (beforeSpawn.length > 0) s.rows.push(rowFrom(`${c.label}: service Sync → JobStarted`, 'ms', beforeSpawn));
      s.rows.push(rowFrom(`${c.label}: ratio per pair`, 'ratio', service.map((v, i) => v / direct[i]!)));
      s.rows.push(rowValue(`${c.label}: ratio of medians`, 'ratio', ms / md, `+${(ms - md).toFixed(0)} ms`));
      if (c.goal) s.goals.push(goalAtMost(`overhead ratio, ${c.label}`, ms / md, 1.05, '×'));
    }
  } finally {
    client.close();
    await svc.stop();
  }
  s.notes.push('Each ratio compares runs taken in the same session, alternating service/direct order; direct runs discard rclone output (the floor), the service parses it.');
  return s;
}
