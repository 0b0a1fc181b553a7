// Measure 9: what sync on change costs the service (issue 16 "must show"). One job over 100,000 files in 10,000
// folders, the service started with `watch: false` and then with `watch: true`: exec → READY=1 (the watch starts
// after it), exec → the job's watch in place (Status says `watching`), RSS and CPU over 10 s of idling after 30 s of
// settling (V8's memory reducer gives back the heap the walk grew about 20 s after it), inotify watches.
// The watcher alone against other watchers (node:fs recursive, chokidar, @parcel/watcher): bench/watchers.ts by hand.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { connectClient, jobStatus } from './client.js';
import { sampleProcess } from './proc-stats.js';
import { goalAtMost, rowValue, section, type SectionResult } from './report.js';
import { farSchedule } from './service.js';
import { buildTree, inotifyWatches } from './watchers.js';

interface Reading {
  readyMs: number;
  watchingMs: number;
  rssMiB: number;
  idleCpuMs: number;
  watches: number;
}

export async function measureWatchCost(ctx: BenchContext): Promise<SectionResult> {
  const files = ctx.quick ? 2000 : 100_000;
  const dirs = ctx.quick ? 200 : 10_000;
  const settleSeconds = ctx.quick ? 1 : 30;
  const idleSeconds = ctx.quick ? 2 : 10;
  const count = `${files.toLocaleString('en-US')} files in ${dirs.toLocaleString('en-US')} folders`;
  const s = section('watch', `9. Watch cost: the service with one job over ${count}, watch off and on`);
  const world = ctx.world('watch-cost');
  const remote = join(world.dir, 'remote', 'tree');
  mkdirSync(remote, { recursive: true });
  ctx.progress(`watch: building ${count}`);
  buildTree(join(world.syncRoot, 'tree'), files, dirs);
  const readings = new Map<boolean, Reading>();
  for (const watch of [false, true]) {
    world.writeConfig([{ name: 'tree', local: 'tree', path2: remote, schedule: farSchedule(), extraLines: [`    watch: ${watch}`] }], { rcloneBinary: ctx.rclone.path });
    ctx.progress(`watch: the service with watch: ${watch}`);
    const svc = world.start();
    const ready = await svc.ready();
    const client = await connectClient(ctx.bus.address);
    try {
      const wanted = watch ? 'watching' : 'off';
      const deadline = performance.now() + 300_000;
      while ((await jobStatus(client, 'tree')).watch !== wanted) {
        if (performance.now() > deadline) throw new Error(`the job's watch never became ${wanted}`);
        await sleep(20);
      }
      const watchingMs = Number(process.hrtime.bigint() - svc.execNs) / 1e6;
      await sleep(settleSeconds * 1000);
      const a = sampleProcess(svc.pid);
      await sleep(idleSeconds * 1000);
      const b = sampleProcess(svc.pid);
      readings.set(watch, { readyMs: Number(ready.ns - svc.execNs) / 1e6, watchingMs, rssMiB: b.rssKiB / 1024, idleCpuMs: (b.cpuNs - a.cpuNs) / 1e6, watches: inotifyWatches(svc.pid) });
    } finally {
      client.close();
      await svc.stop();
    }
  }
  const off = readings.get(false)!;
  const on = readings.get(true)!;
  s.rows.push(
    rowValue('exec → READY=1, watch off', 'ms', off.readyMs),
    rowValue('exec → READY=1, watch on', 'ms', on.readyMs),
    rowValue('exec → the job\'s watch in place (Status: watching), watch on', 'ms', on.watchingMs),
    rowValue('RSS, watch off', 'MiB', off.rssMiB),
    rowValue('RSS, watch on', 'MiB', on.rssMiB),
    rowValue('RSS added by the watch', 'MiB', on.rssMiB - off.rssMiB),
    rowValue(`idle CPU over ${idleSeconds} s (schedstat, all threads), watch off`, 'ms', off.idleCpuMs),
    rowValue(`idle CPU over ${idleSeconds} s (schedstat, all threads), watch on`, 'ms', on.idleCpuMs),
    rowValue('inotify watches, watch on (one per folder)', 'count', on.watches),
  );
  s.goals.push(goalAtMost('RSS added by watching the tree', on.rssMiB - off.rssMiB, 30, 'MiB'));
  s.goals.push(goalAtMost(`idle CPU added over ${idleSeconds} s`, on.idleCpuMs - off.idleCpuMs, 5, 'ms'));
  s.notes.push(`RSS and CPU after ${settleSeconds} s of rest from the moment the watch is in place, then over ${idleSeconds} s; the job never runs (scheduled hours ahead). READY=1 comes before the walk, so start-up (measure 3) does not include it.`);
  return s;
}
