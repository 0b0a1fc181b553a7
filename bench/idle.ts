// Measure 4: idle cost of the service with 100 jobs scheduled hours ahead, over one window (60 s; 5 s in --quick),
// next to the bare floor process idling over the same window: CPU, wake-ups (voluntary context switches), memory.

import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { CLOCK_TICKS_PER_SECOND, sampleProcess } from './proc-stats.js';
import type { ProcSample } from './proc-stats.js';
import { goalAtMost, rowValue, section } from './report.js';
import type { Row, SectionResult } from './report.js';
import { bareReadyMs, idleJobs } from './startup.js';
import type { JobSpec } from './service.js';

function rows(label: string, a: ProcSample, b: ProcSample, seconds: number): Row[] {
  const perMinute = 60 / seconds;
  return [
    rowValue(`${label}: CPU per minute (schedstat, all threads)`, 'ms', ((b.cpuNs - a.cpuNs) / 1e6) * perMinute),
    rowValue(`${label}: CPU per minute (stat utime+stime, 10 ms ticks)`, 'ms', (((b.cpuTicks - a.cpuTicks) * 1000) / CLOCK_TICKS_PER_SECOND) * perMinute),
    rowValue(`${label}: voluntary context switches per minute (all threads)`, 'count', (b.voluntary - a.voluntary) * perMinute),
    rowValue(`${label}: voluntary context switches per minute (main thread)`, 'count', (b.leaderVoluntary - a.leaderVoluntary) * perMinute),
    rowValue(`${label}: RSS`, 'MiB', b.rssKiB / 1024),
    rowValue(`${label}: private memory (smaps_rollup)`, 'MiB', b.privateKiB / 1024),
    rowValue(`${label}: threads`, 'count', b.threads),
  ];
}

/**
 * Run conditions on every job (issue 17): metered, power and a time window that opens hours from now. They are events
 * (the system bus's PropertiesChanged, one timer at the next window change), so the idle cost must not change.
 */
function withConditions(jobs: readonly JobSpec[]): JobSpec[] {
  const opens = new Date(Date.now() + 2 * 3_600_000);
  const hh = String(opens.getHours()).padStart(2, '0');
  const closes = String((opens.getHours() + 1) % 24).padStart(2, '0');
  const lines = ['    run_conditions:', '      metered: avoid', '      power: battery_above_30', `      windows: ["${hh}:00-${closes}:00"]`];
  return jobs.map((job) => ({ ...job, extraLines: lines }));
}

export async function measureIdle(ctx: BenchContext): Promise<SectionResult> {
  const s = section('idle', '4. Idle cost: 100 jobs scheduled hours ahead');
  await idleVariant(ctx, s, '', 'idle', (jobs) => [...jobs]);
  await idleVariant(ctx, s, ', with run conditions', 'idle-conditions', withConditions);
  return s;
}

async function idleVariant(ctx: BenchContext, s: SectionResult, variant: string, worldName: string, shape: (jobs: readonly JobSpec[]) => JobSpec[]): Promise<void> {
  const seconds = ctx.quick ? 3 : 60;
  const world = ctx.world(worldName);
  world.writeConfig(shape(idleJobs(world, 100)), { rcloneBinary: ctx.rclone.path });
  const svc = world.start();
  await svc.ready();
  const bare = await bareReadyMs(ctx, true);
  try {
    // Let start-up work (GC, lazy compilation, first timers) settle before the window opens.
    await sleep(ctx.quick ? 500 : 5_000);
    // Three consecutive windows in the full run: V8's memory reducer keeps collecting for a minute or two after
    // start-up (an 8 s timer on the main thread) and ends with a full GC, so the last window is the steady state.
    const windows = ctx.quick ? 1 : 3;
    let a = sampleProcess(svc.pid);
    let ba = sampleProcess(bare.pid);
    for (let w = 1; w <= windows; w++) {
      await sleep(seconds * 1000);
      const b = sampleProcess(svc.pid);
      const bb = sampleProcess(bare.pid);
      const tag = `${variant}${windows === 1 ? '' : ` (minute ${w})`}`;
      const service = rows(`service${tag}`, a, b, seconds);
      s.rows.push(...service, ...rows(`bare Node on the bus${tag}`, ba, bb, seconds));
      s.goals.push(goalAtMost(`idle CPU per minute${tag}`, service[0]!.median, 5, 'ms'));
      s.goals.push(goalAtMost(`idle RSS${tag}`, service[4]!.median, 60, 'MiB'));
      a = b;
      ba = bb;
    }
    s.notes.push(`${variant === '' ? 'Plain jobs' : 'Every job with run_conditions (metered: avoid, power: battery_above_30, a window opening in 2 h)'}: window ${seconds} s, starting ${ctx.quick ? 0.5 : 5} s after READY=1, figures scaled to one minute; both processes measured over the same window.`);
  } finally {
    await bare.stop();
    await svc.stop();
  }
}
