// Measure 6: time of the Reload() call (it returns after reloading) with 1,000 jobs: unchanged and idle, unchanged
// while 4 jobs sync, and with one job's schedule changed while 4 jobs sync.

import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { connectClient } from './client.js';
import type { BusClient } from './client.js';
import { copyTree, makeTree } from './fixtures.js';
import { goalAtMost, rowFrom, section } from './report.js';
import type { SectionResult } from './report.js';
import { farSchedule } from './service.js';
import type { JobSpec } from './service.js';
import { idleJobs } from './startup.js';
import { summarize } from './stats.js';

async function timedReloads(client: BusClient, runs: number, before?: (i: number) => void): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    before?.(i);
    const t0 = performance.now();
    await client.call('Reload', '', []);
    out.push(performance.now() - t0);
    await sleep(100);
  }
  return out;
}

export async function measureReload(ctx: BenchContext): Promise<SectionResult> {
  const s = section('reload', '6. Reload: Reload() call → reply');
  const count = ctx.quick ? 20 : 1_000;
  const runs = ctx.quick ? 2 : 10;
  const busyFiles = ctx.quick ? 100 : 5_000;
  const world = ctx.world('reload');
  const idle = idleJobs(world, count - 4);
  const seed = join(world.dir, 'seed-busy');
  makeTree(seed, busyFiles);
  mkdirSync(join(world.dir, 'remote'), { recursive: true });
  const busy: JobSpec[] = [];
  for (let i = 0; i < 4; i++) {
    const name = `busy${i}`;
    copyTree(seed, join(world.syncRoot, name));
    copyTree(seed, join(world.dir, 'remote', name));
    busy.push({ name, local: name, path2: join(world.dir, 'remote', name), schedule: '* * * * * *' });
  }
  const schedules = [farSchedule(3), farSchedule(4)];
  const write = (busyActive: boolean, changed = 0): void => {
    const jobs = idle.map((j, i) => (i === 0 ? { ...j, schedule: schedules[changed % 2]! } : j));
    world.writeConfig([...jobs, ...busy.map((b) => ({ ...b, active: busyActive }))], { rcloneBinary: ctx.rclone.path, maxParallel: 8 });
  };
  write(false);
  const client = await connectClient(ctx.bus.address);
  const finished = new Map<string, number>();
  let reloaded = 0;
  let reloadedAt = 0;
  client.onSignal('ConfigReloaded', () => {
    reloaded++;
    reloadedAt = performance.now();
  });
  const untilReloaded = async (count: number, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (reloaded < count) {
      if (Date.now() > deadline) return false;
      await sleep(10);
    }
    return true;
  };
  client.onSignal('JobFinished', (args) => finished.set(String(args[1]), (finished.get(String(args[1])) ?? 0) + 1));
  const svc = world.start();
  const label = `${count.toLocaleString('en-US')} jobs`;
  try {
    await svc.ready();
    await client.call('Reload', '', []); // warm-up
    s.rows.push(rowFrom(`${label}, unchanged, nothing syncing`, 'ms', await timedReloads(client, runs)));
    // Activate the 4 busy jobs and wait until each has finished two runs (the resync and a normal bisync; one in --quick).
    write(true);
    await client.call('Reload', '', []);
    const deadline = Date.now() + 300_000;
    while (busy.some((b) => (finished.get(b.name) ?? 0) < (ctx.quick ? 1 : 2))) {
      if (Date.now() > deadline) throw new Error('the 4 busy jobs did not finish two runs each within 5 minutes');
      await sleep(250);
    }
    const unchanged = await timedReloads(client, runs);
    s.rows.push(rowFrom(`${label}, unchanged, 4 jobs syncing`, 'ms', unchanged));
    // One job changed: the file watcher (300 ms debounce) reloads on its own as well; after each timed call wait
    // for that reload too, so the next call does not queue behind it.
    const oneChanged: number[] = [];
    const byWatcher: number[] = [];
    for (let i = 0; i < runs; i++) {
      write(true, 2 * i + 1);
      const seen = reloaded;
      const t0 = performance.now();
      await client.call('Reload', '', []);
      oneChanged.push(performance.now() - t0);
      await untilReloaded(seen + 2, 5_000);
      // The same edit picked up by the file watcher alone: save → ConfigReloaded.
      const before = reloaded;
      const t1 = performance.now();
      write(true, 2 * i + 2);
      if (await untilReloaded(before + 1, 10_000)) byWatcher.push(reloadedAt - t1);
    }
    s.rows.push(rowFrom(`${label}, one job changed, 4 jobs syncing`, 'ms', oneChanged));
    if (byWatcher.length > 0) s.rows.push(rowFrom(`${label}, one job changed, saved → ConfigReloaded (file watcher, 300 ms debounce)`, 'ms', byWatcher));
    const busyRuns = busy.reduce((n, b) => n + (finished.get(b.name) ?? 0), 0);
    s.notes.push(`The 4 syncing jobs run every second on ${busyFiles.toLocaleString('en-US')}-file trees; they finished ${busyRuns} runs in all during this measure.`);
    s.goals.push(goalAtMost(`Reload with ${label}, unchanged, 4 syncing (median)`, summarize(unchanged).median, 200, 'ms'));
    s.goals.push(goalAtMost(`Reload with ${label}, one changed, 4 syncing (median)`, summarize(oneChanged).median, 200, 'ms'));
  } finally {
    client.close();
    await svc.stop();
  }
  return s;
}
