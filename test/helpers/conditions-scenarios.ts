// Run conditions through the real service process (issue 17 "must show"): python-dbusmock's networkmanager, upower
// and logind on a private system bus, the service on a private session bus, real rclone on local directories. Every
// wait is on an event (a D-Bus signal or PropertiesChanged, an sd_notify message), never a sleep. Used by
// test/integration/conditions-service.test.ts (rclone 1.75) and the mid-run cases of ./conditions-midrun.ts (both
// versions).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as dbus from 'dbus-next';
import { connectClient, type ManagerSignal, type RbmClient } from '../../src/dbus/client.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { treeHashes } from './engine-env.js';
import { run, type RunResult } from './procs.js';
import { createServiceEnv, type ServiceEnv, type Suite } from './service-env.js';
import { outputLine } from './frozen-rclone.js';
import { LOGIND, NM, UPOWER, startSystemBus, type SystemBus } from './system-bus.js';

const MTIME = 1_700_000_000;
export const u32 = (n: number): dbus.Variant => new dbus.Variant('u', n);
/** NetworkManager's NMMetered: 1 yes, 2 no. */
export const METERED_YES = 1;
export const METERED_NO = 2;

export interface ConditionsWorld {
  env: ServiceEnv;
  sysbus: SystemBus | undefined;
  client: RbmClient;
  local: string;
  remote: string;
  /** Every signal of the service since the client subscribed. */
  signals: ManagerSignal[];
  /** Resolves once `holds(signals)` is true, checked now and after each signal. */
  until<T>(what: string, find: (signals: readonly ManagerSignal[]) => T | undefined): Promise<T>;
  rbmctl(args: string[]): Promise<RunResult>;
  /** The job's Waiting text as Status() gives it. */
  waiting(): Promise<string>;
  /** Resolves once the job waits with `text` (already, or on its PropertiesChanged). */
  waitsWith(text: string): Promise<void>;
  setMetered(value: number): Promise<void>;
  setOnBattery(value: boolean): Promise<void>;
  prepareForSleep(start: boolean): Promise<void>;
  /** sha256 of both trees are equal (and not empty). */
  assertConverged(what: string): void;
  daemonOutput(): string;
  /** The service process's pid (its rclone runs are its children). */
  daemonPid: number;
  /** Resolves with the first line of the service's output that matches (already printed, or when it is); rejects when one matching `instead` comes first. */
  outputLine(match: RegExp, instead?: RegExp): Promise<string>;
}

export interface WorldOptions {
  /** Lines under the job (e.g. its run_conditions). */
  job: string;
  /** Extra top-level lines. */
  globals?: string;
  /** NetworkManager's Metered when the service starts (undefined: the property is not published). */
  metered?: number;
  onBattery?: boolean;
  /** No system bus at all (DBUS_SYSTEM_BUS_ADDRESS names a socket that does not exist). */
  noSystemBus?: boolean;
  /** Files in the local tree before the start (name → content). */
  files?: Record<string, string | Buffer>;
  /** Extra environment of the service process (a fake wall clock, TZ). */
  daemonEnv?: Record<string, string>;
}

export const JOB = 'docs';

export function writeTree(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    utimesSync(path, MTIME, MTIME);
  }
}

/** A large file and some small ones: under the tight bwlimit of ./frozen-rclone.ts the large one is still in flight when rclone is frozen. */
export function slowFiles(): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = { 'large.bin': randomBytes(4 * 1024 * 1024) };
  for (let i = 0; i < 20; i++) files[`small/f${i}.txt`] = `small ${i}\n`;
  return files;
}

export async function startConditionsWorld(t: TestContext, suite: Suite, options: WorldOptions): Promise<ConditionsWorld> {
  let sysbus: SystemBus | undefined;
  if (options.noSystemBus !== true) {
    sysbus = await startSystemBus(t);
    await Promise.all((['networkmanager', 'upower', 'logind'] as const).map((template) => sysbus!.startMock(template)));
    if (options.metered !== undefined) await sysbus.addProperty(NM, NM.iface, 'Metered', u32(options.metered));
    if (options.onBattery !== undefined) await sysbus.setProperty(UPOWER, UPOWER.iface, 'OnBattery', new dbus.Variant('b', options.onBattery));
  }
  const env = await createServiceEnv(t, { rclone: suite.rclone!, busAddress: suite.bus().address });
  env.env.DBUS_SYSTEM_BUS_ADDRESS = sysbus?.address ?? `unix:path=${join(env.dir, 'no-system-bus')}`;
  Object.assign(env.env, options.daemonEnv ?? {});
  const local = join(env.syncRoot, 'local', JOB);
  const remote = join(env.syncRoot, 'remote', JOB);
  mkdirSync(local, { recursive: true });
  mkdirSync(remote, { recursive: true });
  writeTree(local, options.files ?? { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n' });
  env.writeConfig(env.configText([{ name: JOB, extra: options.job }], options.globals ?? ''));

  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1').catch((e: unknown) => {
    throw new Error(`${String(e)}\n${daemon.output()}`);
  });
  const client = await connectClient({ busAddress: suite.bus().address, timeoutMs: 25_000 });
  t.after(() => client.close());
  const signals: ManagerSignal[] = [];
  const waiters = new Set<() => void>();
  await client.subscribe((s) => {
    signals.push(s);
    for (const w of [...waiters]) w();
  });

  const world: ConditionsWorld = {
    env,
    sysbus,
    client,
    local,
    remote,
    signals,
    until(_what, find) {
      return new Promise((resolve) => {
        const w = (): void => {
          const found = find(signals);
          if (found === undefined) return;
          waiters.delete(w);
          resolve(found);
        };
        waiters.add(w);
        w();
      });
    },
    rbmctl: (args) => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env }),
    async waiting() {
      const status = await client.status();
      return status.jobs.find((j) => j.name === JOB)?.waiting ?? '';
    },
    async waitsWith(text) {
      const changed = world.until(`Waiting = ${text}`, waitingBecame(text));
      if ((await world.waiting()) === text) return;
      await changed;
    },
    setMetered: (value) => sysbus!.setProperty(NM, NM.iface, 'Metered', u32(value)),
    setOnBattery: (value) => sysbus!.setProperty(UPOWER, UPOWER.iface, 'OnBattery', new dbus.Variant('b', value)),
    prepareForSleep: (start) => sysbus!.emitSignal(LOGIND, LOGIND.iface, 'PrepareForSleep', 'b', [new dbus.Variant('b', start)]),
    assertConverged(what) {
      const left = treeHashes(local);
      assert.ok(Object.keys(left).length > 0, `${what}: the local tree is not empty`);
      assert.deepEqual(treeHashes(remote), left, `${what}: both sides hold the same files (sha256)`);
    },
    daemonOutput: () => daemon.output(),
    daemonPid: daemon.pid,
    outputLine: (match, instead) => outputLine(daemon, match, instead),
  };
  return world;
}

/** The job's Waiting property changed to `text` (PropertiesChanged on its object). */
export function waitingBecame(text: string): (signals: readonly ManagerSignal[]) => true | undefined {
  return (signals) => (signals.some((s) => s.kind === 'properties-changed' && s.job === JOB && s.changed.Waiting === text) ? true : undefined);
}

/** The n-th (1-based) JobStarted of the job. */
export function started(n = 1): (signals: readonly ManagerSignal[]) => (ManagerSignal & { kind: 'job-started' }) | undefined {
  return (signals) => signals.filter((s): s is ManagerSignal & { kind: 'job-started' } => s.kind === 'job-started' && s.job === JOB)[n - 1];
}

/** The JobFinished of that run. */
export function finished(runId: bigint): (signals: readonly ManagerSignal[]) => (ManagerSignal & { kind: 'job-finished' }) | undefined {
  return (signals) => signals.find((s): s is ManagerSignal & { kind: 'job-finished' } => s.kind === 'job-finished' && s.runId === runId);
}

/** Some bytes of the large file reached rclone's progress (the run is in its transfer phase). */
export function transferring(runId: bigint): (signals: readonly ManagerSignal[]) => true | undefined {
  return (signals) => (signals.some((s) => s.kind === 'job-progress' && s.runId === runId && s.progress.bytes > 0n) ? true : undefined);
}

export function countStarted(signals: readonly ManagerSignal[]): number {
  return signals.filter((s) => s.kind === 'job-started' && s.job === JOB).length;
}
