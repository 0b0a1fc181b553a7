// One private world for the real service: temp HOME and XDG dirs, a config writer, and the daemon from dist started
// with NOTIFY_SOCKET pointing at the python listener (readiness = its READY=1 datagram, timed on CLOCK_MONOTONIC).

import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NotifyListener, NotifyMessage } from './notify.js';
import { DAEMON_JS } from './paths.js';
import { startProcess, stopProcess } from './procs.js';

export interface JobSpec {
  name: string;
  /** Directory under the world's sync root (relative) for Path1. */
  local: string;
  /** Absolute directory for a local Path2, or a path on `remote`. */
  path2: string;
  /** rclone remote name; '' for a local Path2. */
  remote?: string;
  schedule: string;
  active?: boolean;
  /** false writes `checksum_compare: false` (the default compares checksums where it can). */
  checksumCompare?: boolean;
  /** YAML lines under the job, indented by the caller (e.g. its run_conditions). */
  extraLines?: readonly string[];
}

export interface World {
  dir: string;
  syncRoot: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  configPath: string;
  writeConfig(jobs: readonly JobSpec[], options: { rcloneBinary: string; maxParallel?: number }): void;
  start(options?: { extraArgs?: string[] }): ServiceProcess;
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** process.hrtime.bigint() just before spawn(). */
  execNs: bigint;
  /** The READY=1 datagram. */
  ready(timeoutMs?: number): Promise<NotifyMessage>;
  /** The daemon's stderr so far (diagnostics when something fails). */
  log(): string;
  stop(): Promise<void>;
}

/** A cron expression that fires once a day, `hoursAhead` hours from now: never during a bench run. */
export function farSchedule(hoursAhead = 3): string {
  const d = new Date(Date.now() + hoursAhead * 3_600_000);
  return `${d.getMinutes()} ${d.getHours()} * * *`;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

export function configText(syncRoot: string, jobs: readonly JobSpec[], options: { rcloneBinary: string; maxParallel?: number }): string {
  const lines = [
    `local_base_path: ${yamlString(syncRoot)}`,
    `rclone_binary: ${yamlString(options.rcloneBinary)}`,
    `max_parallel_jobs: ${options.maxParallel ?? 2}`,
    'run_missed_jobs: false',
    'run_initial_sync_on_startup: false',
    'sync_jobs:',
  ];
  for (const job of jobs) {
    lines.push(
      `  ${job.name}:`,
      `    local: ${yamlString(job.local)}`,
      `    rclone_remote: ${yamlString(job.remote ?? '')}`,
      `    remote: ${yamlString(job.path2)}`,
      `    schedule: ${yamlString(job.schedule)}`,
    );
    if (job.active === false) lines.push('    active: false');
    if (job.checksumCompare === false) lines.push('    checksum_compare: false');
    if (job.extraLines) lines.push(...job.extraLines);
  }
  return lines.join('\n') + '\n';
}

export function createWorld(dir: string, options: { busAddress: string; notify: NotifyListener; rcloneConfig?: string }): World {
  const home = join(dir, 'home');
  const syncRoot = join(dir, 'sync');
  const configDir = join(home, '.config', 'rclone-bisync-manager');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(syncRoot, { recursive: true });
  const configPath = join(configDir, 'config.yaml');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    NOTIFY_SOCKET: options.notify.path,
    DBUS_SESSION_BUS_ADDRESS: options.busAddress,
    RCLONE_CONFIG: options.rcloneConfig ?? join(home, 'rclone.conf'),
  };
  let starts = 0;
  return {
    dir,
    syncRoot,
    env,
    stateDir: join(home, '.local', 'state', 'rclone-bisync-manager'),
    configPath,
    writeConfig(jobs, o) {
      writeFileSync(configPath, configText(syncRoot, jobs, o));
    },
    start(o = {}) {
      const logPath = join(dir, `daemon-${++starts}.log`);
      const fd = openSync(logPath, 'w');
      const execNs = process.hrtime.bigint();
      // e.g. RBM_BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service under a measure.
      const nodeArgs = (process.env.RBM_BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
      const child = startProcess(process.execPath, [...nodeArgs, DAEMON_JS, '--config', configPath, ...(o.extraArgs ?? [])], { env, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      const pid = child.pid!;
      const log = (): string => readFileSync(logPath, 'utf8');
      return {
        child,
        pid,
        execNs,
        log,
        ready(timeoutMs = 60_000) {
          const exited = new Promise<never>((_, reject) => {
            child.once('exit', (code, signal) => reject(new Error(`the service exited (${code ?? signal}) before READY=1:\n${log().slice(-2000)}`)));
          });
          return Promise.race([options.notify.waitFor(pid, (d) => d.split('\n').includes('READY=1'), timeoutMs), exited]);
        },
        stop: () => stopProcess(child, 30_000),
      };
    },
  };
}
