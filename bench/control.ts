// Measure 5: control latency. Over the bus from this process (one dbus-next connection, raw messages): Peer.Ping
// (the floor: bus + dbus-next dispatch), Status, a manager property and job property reads, sequential and with 32
// calls in flight, with 10 and 1,000 jobs. Then `rbmctl status` wall time next to busctl and a bare `node -e ''`.

import type { BenchContext } from './context.js';
import { connectClient, BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_PATH } from './client.js';
import type { BusClient } from './client.js';
import { RBMCTL_JS } from './paths.js';
import { runTimed } from './procs.js';
import { goalAtMost, rowFrom, rowValue, section } from './report.js';
import type { SectionResult } from './report.js';
import { idleJobs } from './startup.js';
import { summarize } from './stats.js';

const PROPS = 'org.freedesktop.DBus.Properties';

interface Probe {
  name: string;
  call: (c: BusClient) => Promise<unknown>;
}

function probes(jobPath: string): Probe[] {
  return [
    { name: 'Peer.Ping (floor)', call: (c) => c.call('Ping', '', [], { iface: 'org.freedesktop.DBus.Peer' }) },
    { name: 'Status()', call: (c) => c.call('Status', '', []) },
    { name: 'Get Manager.State', call: (c) => c.call('Get', 'ss', [MANAGER_INTERFACE, 'State'], { iface: PROPS }) },
    { name: 'Get Job.State', call: (c) => c.call('Get', 'ss', [JOB_INTERFACE, 'State'], { iface: PROPS, path: jobPath }) },
    { name: 'GetAll Job', call: (c) => c.call('GetAll', 's', [JOB_INTERFACE], { iface: PROPS, path: jobPath }) },
  ];
}

/** Up to `n` calls, stopping early after BUDGET_MS (a slow call must not stretch the bench to hours). */
const BUDGET_MS = 20_000;

async function sequential(c: BusClient, p: Probe, n: number): Promise<{ lat: number[]; perSecond: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n && performance.now() - t0 < BUDGET_MS; i++) {
    const a = performance.now();
    await p.call(c);
    lat.push(performance.now() - a);
  }
  return { lat, perSecond: (lat.length * 1000) / (performance.now() - t0) };
}

async function concurrent(c: BusClient, p: Probe, n: number, width: number): Promise<{ lat: number[]; perSecond: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n && performance.now() - t0 < BUDGET_MS) {
      next++;
      const a = performance.now();
      await p.call(c);
      lat.push(performance.now() - a);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return { lat, perSecond: (lat.length * 1000) / (performance.now() - t0) };
}

export async function measureControl(ctx: BenchContext): Promise<SectionResult> {
  const s = section('control', '5. Control latency');
  const calls = ctx.quick ? 50 : 1_000;
  const cliRuns = ctx.quick ? 2 : 10;
  for (const count of ctx.quick ? [10] : [10, 1_000]) {
    const world = ctx.world(`control-${count}`);
    world.writeConfig(idleJobs(world, count), { rcloneBinary: ctx.rclone.path });
    let svc = world.start();
    await svc.ready();
    const client = await connectClient(ctx.bus.address);
    const label = `${count.toLocaleString('en-US')} jobs`;
    // A failed probe is reported (note + failed goal) and the service restarted, so the other probes still run.
    const attempt = async (what: string, goal: string | undefined, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e: unknown) {
        const died = svc.child.exitCode !== null || svc.child.signalCode !== null;
        const message = e instanceof Error ? e.message : String(e);
        s.notes.push(`FAILED ${label}, ${what}: ${message}${died ? ` (the service exited: ${svc.log().trim().split('\n').at(-1) ?? ''})` : ''}`);
        if (goal !== undefined) s.goals.push({ name: goal, target: 'completes', value: Number.POSITIVE_INFINITY, limit: 0, unit: '', met: false });
        ctx.progress(`control: ${label}, ${what} failed: ${message}`);
        await svc.stop();
        svc = world.start();
        await svc.ready();
      }
    };
    try {
      for (const p of probes(`${OBJECT_PATH}/job/job0000`)) {
        ctx.progress(`control: ${label}, ${p.name}`);
        const goal = count === 1_000 && (p.name === 'Status()' || p.name === 'Get Job.State') ? `${p.name} p99, sequential, ${label}` : undefined;
        await attempt(p.name, goal, async () => {
          for (let i = 0; i < (ctx.quick ? 5 : 20); i++) await p.call(client); // warm-up: JIT and caches on both ends
          const seq = await sequential(client, p, calls);
          s.rows.push(rowFrom(`${label}, ${p.name}, sequential`, 'ms', seq.lat, { percentiles: true, note: `${Math.round(seq.perSecond)} calls/s` }));
          const conc = await concurrent(client, p, calls * 2, 32);
          s.rows.push(rowFrom(`${label}, ${p.name}, 32 in flight`, 'ms', conc.lat, { percentiles: true, note: `${Math.round(conc.perSecond)} calls/s` }));
          s.rows.push(rowValue(`${label}, ${p.name}, throughput with 32 in flight`, 'calls/s', conc.perSecond));
          if (goal !== undefined) s.goals.push(goalAtMost(goal, summarize(seq.lat).p99, 5, 'ms'));
        });
      }
      // Client start-up + one call: our CLI, systemd's busctl, and the floor of any Node CLI.
      const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: ctx.bus.address };
      const goal = `rbmctl status ÷ bare node start-up, ${label}`;
      await attempt('rbmctl status / busctl Status', goal, async () => {
        const rbmctl: number[] = [];
        const busctl: number[] = [];
        const bareNode: number[] = [];
        for (let i = 0; i < cliRuns + 1; i++) {
          const r = await runTimed(process.execPath, [RBMCTL_JS, 'status'], { env, capture: true });
          if (r.code !== 0) throw new Error(`rbmctl status exited with ${r.code}: ${r.stderr.slice(-500)}`);
          const b = await runTimed('busctl', ['--user', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Status'], { env, capture: true });
          if (b.code !== 0) throw new Error(`busctl call Status exited with ${b.code}: ${b.stderr.slice(-500)}`);
          const n = await runTimed(process.execPath, ['-e', ''], { env });
          if (i === 0) continue; // first round warms the page cache
          rbmctl.push(r.ms);
          busctl.push(b.ms);
          bareNode.push(n.ms);
        }
        s.rows.push(rowFrom(`${label}, rbmctl status (wall)`, 'ms', rbmctl));
        s.rows.push(rowFrom(`${label}, busctl --user call … Status (wall)`, 'ms', busctl));
        s.rows.push(rowFrom(`${label}, node -e '' (wall)`, 'ms', bareNode));
        const ratio = summarize(rbmctl).median / summarize(bareNode).median;
        s.rows.push(rowValue(`${label}, rbmctl status ÷ node -e ''`, 'ratio', ratio));
        s.goals.push(goalAtMost(goal, ratio, 1.5, '×'));
      });
    } finally {
      client.close();
      await svc.stop();
    }
  }
  s.notes.push('Bus calls go from the bench process through the private dbus-daemon to the service; the client side (dbus-next in the bench) is part of every figure, so Peer.Ping is shown as the floor.');
  return s;
}
