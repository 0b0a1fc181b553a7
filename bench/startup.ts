// Measure 3: exec → READY=1 of the real service with 1, 100 and 1,000 jobs, next to the bare floor (a Node
// process that connects to the bus, owns a name and sends READY=1). Both are timed on CLOCK_MONOTONIC: exec just
// before spawn() here, READY=1 at receipt by the python notify listener.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { BENCH_DIST } from './paths.js';
import { startProcess, stopProcess, waitExit } from './procs.js';
import { goalAtMost, rowFrom, section } from './report.js';
import type { SectionResult } from './report.js';
import { farSchedule } from './service.js';
import type { JobSpec, World } from './service.js';
import { summarize } from './stats.js';

/** N local→local jobs scheduled hours ahead, with their directories created. */
export function idleJobs(world: World, count: number): JobSpec[] {
  const schedule = farSchedule();
  const jobs: JobSpec[] = [];
  for (let i = 0; i < count; i++) {
    const name = `job${String(i).padStart(4, '0')}`;
    mkdirSync(join(world.syncRoot, 'local', name), { recursive: true });
    mkdirSync(join(world.syncRoot, 'remote', name), { recursive: true });
    jobs.push({ name, local: `local/${name}`, path2: join(world.syncRoot, 'remote', name), schedule });
  }
  return jobs;
}

/** One start of the bare floor process: ms from exec to READY=1 (or to "ready" on stdout without the addon). */
export async function bareReadyMs(ctx: BenchContext, stay = false): Promise<{ ms: number; stop: () => Promise<void>; pid: number }> {
  const execNs = process.hrtime.bigint();
  const child = startProcess(process.execPath, [join(BENCH_DIST, 'bare-node.js'), ...(stay ? ['--stay'] : [])], {
    env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: ctx.bus.address, NOTIFY_SOCKET: ctx.notify.path },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  const viaStdout = new Promise<bigint>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve(process.hrtime.bigint());
    });
  });
  const viaNotify = ctx.notify.waitFor(pid, (d) => d.split('\n').includes('READY=1'), 30_000).then((m) => m.ns);
  const readyNs = await Promise.race([viaStdout, viaNotify]);
  if (!stay) await waitExit(child, 10_000);
  return { ms: Number(readyNs - execNs) / 1e6, stop: () => stopProcess(child), pid };
}

export async function measureStartup(ctx: BenchContext): Promise<SectionResult> {
  const s = section('startup', '3. Start-up: exec → READY=1');
  const runs = ctx.quick ? 1 : 7;
  const sizes = ctx.quick ? [1, 100] : [1, 100, 1_000];
  const bare: number[] = [];
  for (const count of sizes) {
    const world = ctx.world(`startup-${count}`);
    world.writeConfig(idleJobs(world, count), { rcloneBinary: ctx.rclone.path });
    if (!ctx.quick) {
      // One unmeasured start: creates the state directory and warms the page cache.
      const warm = world.start();
      await warm.ready();
      await warm.stop();
    }
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push((await bareReadyMs(ctx)).ms);
      const svc = world.start();
      const ready = await svc.ready();
      samples.push(Number(ready.ns - svc.execNs) / 1e6);
      await svc.stop();
    }
    s.rows.push(rowFrom(`service, ${count.toLocaleString('en-US')} job${count === 1 ? '' : 's'}`, 'ms', samples));
    if (count === 100) s.goals.push(goalAtMost('start-up with 100 jobs (median)', summarize(samples).median, 250, 'ms'));
  }
  s.rows.push(rowFrom('bare Node: connect to the bus, own a name, READY=1', 'ms', bare));
  s.notes.push('Readiness is the READY=1 datagram received by a python3 AF_UNIX listener (Node has no datagram unix sockets), timed on CLOCK_MONOTONIC against the exec.');
  return s;
}
