// Shared by the hardening suite (test/integration/hardening-*.test.ts): bounded vs long figures, /proc readers
// (RSS, fds, sockets, descendants), tmpfs mounts, a wrapper rclone, and a real service process with a bus client.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { connectClient, type RbmClient, type RunView } from '../../src/dbus/client.js';
import type { DaemonProcess } from './daemon-process.js';
import { createServiceEnv, type JobSpec, type ServiceEnv } from './service-env.js';
import { IN_CI } from './tools.js';

/** RBM_HARDENING_LONG=1: the issue's full figures (release checks); otherwise the bounded CI figures. */
export const LONG = process.env.RBM_HARDENING_LONG === '1';

export function figure<T>(bounded: T, long: T): T {
  return LONG ? long : bounded;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms; throws naming `what` after timeoutMs. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}


// ---------------------------------------------------------------------------------------------
// /proc readers

/** Resident set size of a process in KiB. */
export function rssKiB(pid: number | 'self'): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function fdCount(pid: number | 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: the fields after the last ')' are fixed.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return [];
  }
}

/** Every live descendant of `pid` (children first). */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** The service's rclone children running `subcommand` (bisync by default). */
export function rcloneChildren(pid: number, subcommand = 'bisync'): number[] {
  return descendants(pid).filter((p) => cmdline(p).includes(subcommand));
}

/** SIGKILL a process and everything below it at once, as systemd's KillMode=control-group does. */
export function killTree(pid: number): void {
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface SocketReport {
  /** Socket inodes among the process's fds (stdio excluded). */
  inodes: number[];
  /** Lines of /proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6} that belong to those inodes. */
  inet: string[];
  /** Unix sockets of the process in the listening state. */
  unixListening: string[];
  /** Unix sockets of the process that are connected (stream) or datagram clients. */
  unixConnected: number;
  /** Those, as `stream|dgram <bound path or ->`, for reports. */
  unix: string[];
}

/** What sockets a process holds, from its fd table and its network namespace's tables. */
export function socketsOf(pid: number): SocketReport {
  const inodes: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    // 0-2 are the stdio the parent gave (socketpairs from a test's spawn, the journal stream under systemd).
    if (Number(fd) <= 2) continue;
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  const mine = new Set(inodes);
  const inet: string[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && mine.has(Number(cols[9]))) inet.push(`${table}: ${line.trim()}`);
    }
  }
  const unixListening: string[] = [];
  const unix: string[] = [];
  let unixConnected = 0;
  for (const line of readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 7 || !mine.has(Number(cols[6]))) continue;
    // Flags 00010000 = __SO_ACCEPTCON: a listening socket.
    if ((Number.parseInt(cols[3] ?? '0', 16) & 0x10000) !== 0) unixListening.push(line.trim());
    else {
      unixConnected++;
      unix.push(`${cols[4] === '0002' ? 'dgram' : cols[4] === '0005' ? 'seqpacket' : 'stream'} ${cols[7] ?? '-'}`);
    }
  }
  return { inodes, inet, unixListening, unixConnected, unix };
}

/** Paths (relative to root) of files and directories that anyone may write (symlinks are skipped). */
export function worldWritable(root: string): string[] {
  const out: string[] = [];
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o002) !== 0) out.push(rel || '.');
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), rel ? `${rel}/${name}` : name);
  };
  walk(root, '');
  return out;
}

/** Every entry under root with its permission bits, for mode assertions and reports. */
export function modesUnder(root: string): { rel: string; dir: boolean; mode: number }[] {
  const out: { rel: string; dir: boolean; mode: number }[] = [];
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    out.push({ rel: rel || '.', dir: st.isDirectory(), mode: st.mode & 0o7777 });
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), rel ? `${rel}/${name}` : name);
  };
  walk(root, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// tmpfs mounts (we run as root in CI; elsewhere the test is skipped with the reason)

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export function mountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync('sh', ['-c', 'command -v mount && command -v umount'], { stdio: 'ignore' });
  } catch {
    return 'mount/umount are not installed';
  }
  return undefined;
}

/** Skip (or, under CI=true, fail) when a tmpfs cannot be mounted. Returns whether the test may go on. */
export function requireMount(t: TestContext): boolean {
  const why = mountUnavailable();
  if (why === undefined) return true;
  if (IN_CI) throw new Error(`CI=true and ${why}`);
  t.skip(why);
  return false;
}

export interface Tmpfs {
  path: string;
  /** mount -o remount,<options> (e.g. 'ro', 'rw', 'size=16m'). */
  remount(options: string): void;
}

/**
 * Mount a tmpfs of `size` on a fresh temp dir; unmounted and removed by t.after even when the test fails (immutable
 * flags are cleared first). Outside other temp dirs, so their cleanup never meets a mount point.
 */
export function mountTmpfs(t: TestContext, size: string): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), 'rbm-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path]);
  t.after(() => {
    spawnSync('chattr', ['-R', '-i', path], { stdio: 'ignore' });
    if (spawnSync('umount', [path], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
    rmSync(path, { recursive: true, force: true });
  });
  return { path, remount: (options) => void execFileSync('mount', ['-o', `remount,${options}`, path]) };
}

// ---------------------------------------------------------------------------------------------
// A wrapper rclone_binary: records each argv (NUL-separated, one record per line of the log) and can print
// extra lines to stderr before exec'ing the real rclone. A test tool only: the product never uses a shell.

export interface WrapperOptions {
  /** Append each invocation's argv here: the arguments NUL-separated, then a newline. */
  argvLog?: string;
  /** Lines written to stderr before rclone runs (only for `bisync`, so version probes stay clean). */
  print?: string[];
}

export function writeRcloneWrapper(dir: string, realRclone: string, options: WrapperOptions): string {
  const path = join(dir, 'rclone-wrapper.sh');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['#!/bin/sh'];
  // One record per call under a lock: jobs run in parallel, and each printf is its own write. The lock's descriptor
  // is closed before exec, or rclone would hold it for its whole run.
  if (options.argvLog) lines.push(`exec 9>>${q(options.argvLog)}`, 'flock 9', `for a in "$@"; do printf '%s\\0' "$a" >&9; done; printf '\\n' >&9`, 'exec 9>&-');
  if (options.print && options.print.length > 0) {
    lines.push('if [ "$1" = bisync ]; then');
    for (const l of options.print) lines.push(`  printf '%s\\n' ${q(l)} >&2`);
    lines.push('fi');
  }
  lines.push(`exec ${q(realRclone)} "$@"`);
  writeFileSync(path, lines.join('\n') + '\n');
  chmodSync(path, 0o755);
  return path;
}

/** The argv records a wrapper logged. */
export function readArgvLog(path: string): string[][] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\0\n')
    .filter((r) => r !== '')
    .map((r) => r.split('\0'));
}

// ---------------------------------------------------------------------------------------------
// A real service process with a connected client

export interface RunningService {
  env: ServiceEnv;
  daemon: DaemonProcess;
  client: RbmClient;
  stateDir: string;
  /** SIGTERM (graceful) and wait; resolves with the exit status. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the service with the env's current config on `busAddress`; resolves once it is READY and a client is connected. */
export async function startService(t: TestContext, env: ServiceEnv, busAddress: string, nodeArgs: string[] = []): Promise<RunningService> {
  const mark = env.notify.messages.length;
  env.env.DBUS_SESSION_BUS_ADDRESS = busAddress;
  const daemon = env.start([], nodeArgs);
  await Promise.race([
    env.notify.waitFor((d) => d === 'READY=1', { from: mark, timeoutMs: 60_000 }),
    daemon.exited.then((e) => {
      throw new Error(`the service exited before READY (${JSON.stringify(e)}):\n${daemon.output()}`);
    }),
  ]);
  const client = await connectClient({ busAddress, timeoutMs: 25_000, autoStart: false });
  t.after(() => client.close());
  return {
    env,
    daemon,
    client,
    stateDir: join(env.env.XDG_STATE_HOME ?? join(env.home, '.local', 'state'), 'rclone-bisync-manager'),
    async stop() {
      client.close();
      daemon.child.kill('SIGTERM');
      return daemon.exited;
    },
  };
}

/** A service env whose jobs sync syncRoot/local/<name> ↔ syncRoot/remote/<name> (both created). */
export async function createPairEnv(t: TestContext, rclone: string, names: string[]): Promise<{ env: ServiceEnv; local: (name: string) => string; remote: (name: string) => string }> {
  const env = await createServiceEnv(t, { rclone });
  const local = (name: string): string => join(env.syncRoot, 'local', name);
  const remote = (name: string): string => join(env.syncRoot, 'remote', name);
  for (const n of names) {
    mkdirSync(local(n), { recursive: true });
    mkdirSync(remote(n), { recursive: true });
  }
  return { env, local, remote };
}

/** YAML lines that slow a job's transfers down (so a fault can land mid-transfer). */
export function bwlimit(rate: string): string {
  return `    rclone_options:\n      bwlimit: "${rate}"`;
}

export type { JobSpec };

/** Waits until History(job) holds a finished run with id ≥ minRunId (ids are monotonic across restarts); returns it. */
export async function waitForRun(client: RbmClient, job: string, minRunId: bigint, timeoutMs = 90_000): Promise<RunView> {
  let found: RunView | undefined;
  await waitUntil(`a finished run of ${job} with id ≥ ${minRunId}`, async () => {
    const runs = await client.history(job, 5);
    found = runs.find((r) => r.run_id >= minRunId);
    return found !== undefined;
  }, timeoutMs);
  return found!;
}

/** Waits until the service reports no running or queued job. */
export async function waitIdle(client: RbmClient, timeoutMs = 90_000): Promise<void> {
  await waitUntil('the service to be idle', async () => {
    const s = await client.status();
    return s.running_jobs.length === 0 && s.queued_jobs.length === 0;
  }, timeoutMs);
}

/** True once `dir` holds an rclone temp file (a transfer is in flight) or more than `before` entries. */
export function transferStarted(dir: string, before: number): boolean {
  try {
    const names = readdirSync(dir);
    return names.some((n) => n.endsWith('.partial')) || names.length > before;
  } catch {
    return false;
  }
}
