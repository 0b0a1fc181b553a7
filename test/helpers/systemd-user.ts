// A real `systemd --user` manager with its own user bus, for end-to-end tests.
// Where PID 1 is not systemd (containers, CI) it creates a throw-away user, a delegated cgroup v2 subtree and
// /run/user/<uid>, records every created thing on disk and removes exactly those on stop() or on the next start.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync,
  rmdirSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The GECOS field of every user the harness creates: how leftovers of aborted runs are recognised. */
export const HARNESS_MARKER = 'rclone-bisync-manager systemd test harness';
const USER_PREFIX = 'rbmt';
const WORKDIR_PREFIX = 'rbm-systemd-';
/** Present while /run/systemd/system exists only because a harness created it. */
const RUN_SYSTEMD_CLAIM = join(tmpdir(), 'rbm-systemd-harness.created-run-systemd-system');
const SYSTEMD_BINARY = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'].find((p) => existsSync(p)) ?? '/lib/systemd/systemd';
const USER_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface RunOptions {
  /** Extra environment on top of HOME, USER, LOGNAME, PATH, XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kills the command (SIGKILL) after this many ms; default 60 s. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface UserManager {
  /** 'isolated': a throw-away user and manager; 'session': the current user's own session (RBM_TEST_USER_SESSION=1). */
  readonly mode: 'isolated' | 'session';
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly runtimeDir: string;
  readonly busAddress: string;
  /** A directory the harness removes on stop(); readable and traversable by the test user. */
  readonly workDir: string;
  /** The delegated cgroup (isolated mode), e.g. /sys/fs/cgroup/unified/rbm-test-rbmtab12cd. */
  readonly cgroupDir: string | undefined;
  /** Runs argv (never a shell) as the user, with the user bus in its environment. Never rejects on a non-zero exit. */
  run(cmd: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running command as the user (e.g. `busctl --user monitor`); stop() kills it if still running. */
  spawn(cmd: readonly string[], options?: Omit<RunOptions, 'timeoutMs'>): ChildProcess;
  /** Like run(), but throws with the output when the exit code is not 0. */
  check(cmd: readonly string[], options?: RunOptions): Promise<string>;
  /** Writes a file owned by the user (parent directories too), `path` absolute or relative to home. */
  writeFile(path: string, content: string | Uint8Array, mode?: number): void;
  /** The manager's own output so far (isolated mode), for failure messages. */
  managerLog(): string;
  /** Stops the manager and removes everything the harness created. Idempotent; throws if something stayed behind. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** How long to wait for `systemctl --user is-system-running`; default 30 s. */
  readyTimeoutMs?: number;
}

/** What an isolated harness created, kept in <workDir>/record.json so an aborted run can be cleaned up later. */
interface HarnessRecord {
  ownerPid: number;
  ownerStart: string;
  workDir: string;
  user?: string;
  uid?: number;
  createdRunUser?: boolean;
  runtimeDir?: string;
  cgroupDir?: string;
  managerPid?: number;
}

/** True when PID 1 is systemd (the machine was booted with it). */
export function bootedWithSystemd(): boolean {
  return existsSync('/run/systemd/system') && readProc('/proc/1/comm').trim() === 'systemd';
}

export async function startUserManager(options: StartOptions = {}): Promise<UserManager> {
  if (process.env.RBM_TEST_USER_SESSION === '1' && bootedWithSystemd()) return sessionManager();
  if (process.getuid?.() !== 0) throw new Error('the isolated systemd --user harness needs root');
  await cleanupLeftovers();
  return isolatedManager(options.readyTimeoutMs ?? 30_000);
}

// ---------------------------------------------------------------------------------------------------------------
// Session mode: the caller's own user manager.

function sessionManager(): UserManager {
  const uid = process.getuid!();
  const runtimeDir = process.env.XDG_RUNTIME_DIR ?? `/run/user/${uid}`;
  const busAddress = process.env.DBUS_SESSION_BUS_ADDRESS ?? `unix:path=${runtimeDir}/bus`;
  const workDir = mkdtempSync(join(tmpdir(), WORKDIR_PREFIX));
  chmodSync(workDir, 0o755);
  const children = new Set<ChildProcess>();
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env, XDG_RUNTIME_DIR: runtimeDir, DBUS_SESSION_BUS_ADDRESS: busAddress, ...extra,
  });
  const home = process.env.HOME ?? '/';
  const manager: UserManager = {
    mode: 'session', user: process.env.USER ?? String(uid), uid, gid: process.getgid!(), home, runtimeDir, busAddress,
    workDir, cgroupDir: undefined,
    run: (cmd, o = {}) => runArgv(cmd, env(o.env), o.cwd ?? home, o.timeoutMs ?? 60_000),
    spawn: (cmd, o = {}) => track(children, spawn(cmd[0]!, cmd.slice(1), { env: env(o.env), cwd: o.cwd ?? home, stdio: 'pipe' })),
    check: async (cmd, o) => checked(cmd, await manager.run(cmd, o)),
    writeFile: (path, content, mode) => {
      const abs = path.startsWith('/') ? path : join(home, path);
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content, { mode: mode ?? 0o644 });
    },
    managerLog: () => '',
    stop: () => {
      killChildren(children);
      rmSync(workDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
  return manager;
}

// ---------------------------------------------------------------------------------------------------------------
// Isolated mode: §4.3 of the D-Bus/systemd reference.

async function isolatedManager(readyTimeoutMs: number): Promise<UserManager> {
  const workDir = mkdtempSync(join(tmpdir(), WORKDIR_PREFIX));
  chmodSync(workDir, 0o755); // the test user traverses it to reach its home and the copied artefacts
  const record: HarnessRecord = { ownerPid: process.pid, ownerStart: processStart(process.pid), workDir };
  const save = (): void => writeFileSync(join(workDir, 'record.json'), JSON.stringify(record, null, 2));
  save();
  const children = new Set<ChildProcess>();
  let stopped = false;

  try {
    const user = `${USER_PREFIX}${randomBytes(4).toString('hex')}`;
    const home = join(workDir, 'home');
    await checkedRoot(['useradd', '--system', '--no-create-home', '--user-group', '--home-dir', home,
      '--shell', '/bin/sh', '--comment', HARNESS_MARKER, user]);
    record.user = user;
    save();
    const uid = Number(await checkedRoot(['id', '-u', user]));
    const gid = Number(await checkedRoot(['id', '-g', user]));
    record.uid = uid;
    save();
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, uid, gid);

    claimRunSystemdSystem();

    if (!existsSync('/run/user')) {
      mkdirSync('/run/user', { mode: 0o755 });
      record.createdRunUser = true;
    }
    const runtimeDir = `/run/user/${uid}`;
    if (existsSync(runtimeDir)) throw new Error(`${runtimeDir} already exists: refusing to take it over`);
    mkdirSync(runtimeDir, { mode: 0o700 });
    record.runtimeDir = runtimeDir;
    save();
    chownSync(runtimeDir, uid, gid);

    const cgroupDir = join(cgroup2Mount(), `rbm-test-${user}`);
    mkdirSync(cgroupDir);
    record.cgroupDir = cgroupDir;
    save();
    chownTree(cgroupDir, uid, gid); // delegation: the directory and its cgroup.procs/subtree_control/threads files

    const busAddress = `unix:path=${runtimeDir}/bus`;
    const baseEnv = (extra: Record<string, string> = {}): string[] => [
      `HOME=${home}`, `USER=${user}`, `LOGNAME=${user}`, `SHELL=/bin/sh`, `PATH=${USER_PATH}`, `LANG=C.UTF-8`,
      `XDG_RUNTIME_DIR=${runtimeDir}`, `DBUS_SESSION_BUS_ADDRESS=${busAddress}`,
      ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
    ];
    const asUser = (cmd: readonly string[], extra?: Record<string, string>): string[] => [
      'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', 'env', '-i', ...baseEnv(extra), ...cmd,
    ];

    // The pid must sit in the user-owned cgroup before it becomes the user; sh's pid is the manager's after exec.
    const logPath = join(workDir, 'manager.log');
    const logFd = openSync(logPath, 'a');
    const launcher = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cgroupDir,
      ...asUser([SYSTEMD_BINARY, '--user'])], { detached: true, stdio: ['ignore', logFd, logFd], cwd: home });
    closeSync(logFd);
    launcher.unref();
    if (launcher.pid === undefined) throw new Error('could not start systemd --user');
    record.managerPid = launcher.pid;
    save();
    let managerExited = false;
    launcher.once('exit', () => { managerExited = true; });

    const managerLog = (): string => readProc(logPath);
    const manager: UserManager = {
      mode: 'isolated', user, uid, gid, home, runtimeDir, busAddress, workDir, cgroupDir,
      run: (cmd, o = {}) => runArgv(asUser(cmd, o.env), process.env, o.cwd ?? home, o.timeoutMs ?? 60_000),
      spawn: (cmd, o = {}) => {
        const argv = asUser(cmd, o.env);
        return track(children, spawn(argv[0]!, argv.slice(1), { cwd: o.cwd ?? home, stdio: 'pipe' }));
      },
      check: async (cmd, o) => checked(cmd, await manager.run(cmd, o)),
      writeFile: (path, content, mode) => {
        const abs = path.startsWith('/') ? path : join(home, path);
        if (!abs.startsWith(`${home}/`) && !abs.startsWith(`${workDir}/`)) throw new Error(`${abs} is outside the test user's home`);
        mkdirOwned(dirname(abs), uid, gid);
        writeFileSync(abs, content, { mode: mode ?? 0o644 });
        chownSync(abs, uid, gid);
      },
      managerLog,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        killChildren(children);
        if (!managerExited) {
          await manager.run(['systemctl', '--user', 'exit'], { timeoutMs: 10_000 }).catch(() => undefined);
          for (let i = 0; i < 100 && !managerExited && alive(launcher.pid!); i++) await sleep(100);
        }
        const problems = await cleanupRecord(record);
        if (problems.length > 0) throw new Error(`the harness left things behind:\n${problems.join('\n')}`);
      },
    };

    const deadline = Date.now() + readyTimeoutMs;
    let state = '';
    while (Date.now() < deadline) {
      if (managerExited) throw new Error(`systemd --user exited at start-up:\n${managerLog()}`);
      state = (await manager.run(['systemctl', '--user', 'is-system-running'], { timeoutMs: 5_000 })).stdout.trim();
      if ((state === 'running' || state === 'degraded') && existsSync(`${runtimeDir}/bus`)) return manager;
      await sleep(100);
    }
    await manager.stop().catch(() => undefined);
    throw new Error(`systemd --user did not come up within ${readyTimeoutMs} ms (state: ${state || 'unknown'}):\n${managerLog()}`);
  } catch (e: unknown) {
    if (!stopped) {
      killChildren(children);
      await cleanupRecord(record);
    }
    throw e;
  }
}

/** Removes everything a record lists, in reverse order of creation. Returns what could not be removed. */
async function cleanupRecord(record: HarnessRecord): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => void | Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e: unknown) {
      problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  if (record.managerPid !== undefined && sameUser(record.managerPid, record.uid)) {
    try { process.kill(record.managerPid, 'SIGKILL'); } catch { /* already gone */ }
  }
  if (record.cgroupDir) {
    const dir = record.cgroupDir;
    await attempt(`kill the processes in ${dir}`, () => killCgroup(dir));
  }
  if (record.uid !== undefined && record.user) {
    const uid = record.uid;
    await attempt(`kill the processes of uid ${uid}`, () => killUid(uid));
  }
  if (record.cgroupDir) {
    const dir = record.cgroupDir;
    await attempt(`remove ${dir}`, () => removeCgroupTree(dir));
  }
  if (record.runtimeDir) {
    const dir = record.runtimeDir;
    await attempt(`remove ${dir}`, () => {
      // systemd --user may leave a mount on it only when logind manages it; here it is a plain directory.
      rmSync(dir, { recursive: true, force: true });
    });
  }
  if (record.createdRunUser) await attempt('remove /run/user', () => rmdirIfEmpty('/run/user'));
  if (record.user) {
    const user = record.user;
    await attempt(`delete user ${user}`, async () => {
      if (!(await userExists(user))) return;
      let result = await runArgv(['userdel', user], process.env, '/', 30_000);
      if (result.code !== 0) result = await runArgv(['userdel', '--force', user], process.env, '/', 30_000);
      if (await userExists(user)) throw new Error(`userdel failed: ${result.stderr.trim()}`);
      if ((await runArgv(['getent', 'group', user], process.env, '/', 10_000)).code === 0) {
        await runArgv(['groupdel', user], process.env, '/', 10_000);
      }
    });
  }
  await attempt('release /run/systemd/system', () => releaseRunSystemdSystem(record.workDir));
  if (record.workDir.startsWith(join(tmpdir(), WORKDIR_PREFIX))) {
    await attempt(`remove ${record.workDir}`, () => rmSync(record.workDir, { recursive: true, force: true }));
  }
  return problems;
}

/**
 * Cleans up after harness runs that died without stop(): every work dir whose owner process is gone, and every
 * user carrying the harness marker that no live run owns. Safe to call at any time.
 */
export async function cleanupLeftovers(): Promise<void> {
  const live = liveRecords();
  for (const entry of safeReaddir(tmpdir())) {
    if (!entry.startsWith(WORKDIR_PREFIX)) continue;
    const record = readRecord(join(tmpdir(), entry));
    if (record && !isLive(record)) await cleanupRecord(record);
  }
  const liveUsers = new Set(live.map((r) => r.user));
  for (const line of readProc('/etc/passwd').split('\n')) {
    const [name, , uid, , gecos] = line.split(':');
    if (!name || gecos !== HARNESS_MARKER || !name.startsWith(USER_PREFIX) || liveUsers.has(name)) continue;
    await cleanupRecord({ ownerPid: 0, ownerStart: '', workDir: '', user: name, uid: Number(uid) });
  }
  if (existsSync(RUN_SYSTEMD_CLAIM) && live.length === 0) releaseRunSystemdSystem('');
}

// ---------------------------------------------------------------------------------------------------------------
// /run/systemd/system: systemd --user checks it exists. Create it only when absent; the last live harness removes it.

function claimRunSystemdSystem(): void {
  if (existsSync('/run/systemd/system')) return;
  writeFileSync(RUN_SYSTEMD_CLAIM, `${existsSync('/run/systemd') ? '' : 'parent\n'}`);
  mkdirSync('/run/systemd/system', { recursive: true, mode: 0o755 });
}

function releaseRunSystemdSystem(ownWorkDir: string): void {
  if (!existsSync(RUN_SYSTEMD_CLAIM)) return;
  if (liveRecords().some((r) => r.workDir !== ownWorkDir)) return; // another run still needs it
  const madeParent = readProc(RUN_SYSTEMD_CLAIM).includes('parent');
  rmdirIfEmpty('/run/systemd/system');
  if (madeParent) rmdirIfEmpty('/run/systemd');
  rmSync(RUN_SYSTEMD_CLAIM, { force: true });
}

function liveRecords(): HarnessRecord[] {
  return safeReaddir(tmpdir())
    .filter((e) => e.startsWith(WORKDIR_PREFIX))
    .map((e) => readRecord(join(tmpdir(), e)))
    .filter((r): r is HarnessRecord => r !== undefined && isLive(r));
}

function readRecord(dir: string): HarnessRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as HarnessRecord;
  } catch {
    return undefined;
  }
}

function isLive(record: HarnessRecord): boolean {
  const stat = readProc(`/proc/${record.ownerPid}/stat`);
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  // A killed owner may linger as a zombie until its parent reaps it: that is not a live run.
  return alive(record.ownerPid) && state !== 'Z' && processStart(record.ownerPid) === record.ownerStart;
}

// ---------------------------------------------------------------------------------------------------------------
// cgroups and processes

/** The cgroup v2 mount point: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones. */
export function cgroup2Mount(): string {
  for (const line of readProc('/proc/self/mountinfo').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] === 'cgroup2') {
      const mount = left?.split(' ')[4];
      if (mount) return mount;
    }
  }
  throw new Error('no cgroup v2 hierarchy is mounted (systemd --user needs one: mount cgroup2 or boot with a hybrid layout)');
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chownSync(join(dir, entry.name), uid, gid);
  }
}

function cgroupDirsDepthFirst(dir: string): string[] {
  const out: string[] = [];
  for (const entry of safeReaddir(dir, true)) out.push(...cgroupDirsDepthFirst(join(dir, entry)));
  out.push(dir);
  return out;
}

async function killCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let round = 0; round < 50; round++) {
    const pids = cgroupDirsDepthFirst(dir).flatMap((d) => readProc(join(d, 'cgroup.procs')).split('\n').filter(Boolean).map(Number));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(100);
  }
  throw new Error('processes remain');
}

async function removeCgroupTree(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    if (!existsSync(dir)) return;
    for (const d of cgroupDirsDepthFirst(dir)) {
      try { rmdirSync(d); } catch { /* busy for a moment after its last process died */ }
    }
    if (!existsSync(dir)) return;
    await sleep(100);
  }
  throw new Error('still present');
}

async function killUid(uid: number): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = safeReaddir('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => sameUser(pid, uid));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(100);
  }
  throw new Error('processes remain');
}

function sameUser(pid: number, uid: number | undefined): boolean {
  if (uid === undefined || uid === 0) return false;
  const status = readProc(`/proc/${pid}/status`);
  const match = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  return match !== null && (Number(match[1]) === uid || Number(match[2]) === uid);
}

function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The start time of a process (field 22 of /proc/PID/stat), to tell a live owner from a reused pid. */
function processStart(pid: number): string {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function runArgv(cmd: readonly string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd[0]!, cmd.slice(1), { env, cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const err = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        if (err && typeof err.code === 'string') {
          resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${err.message}\n` });
          return;
        }
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, signal: err?.signal ?? null, stdout, stderr });
      });
  });
}

function checked(cmd: readonly string[], result: RunResult): string {
  if (result.code === 0) return result.stdout;
  throw new Error(`${cmd.join(' ')} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`);
}

async function checkedRoot(cmd: readonly string[]): Promise<string> {
  return checked(cmd, await runArgv(cmd, process.env, '/', 30_000)).trim();
}

async function userExists(user: string): Promise<boolean> {
  return (await runArgv(['getent', 'passwd', user], process.env, '/', 10_000)).code === 0;
}

function track(children: Set<ChildProcess>, child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killChildren(children: Set<ChildProcess>): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

function mkdirOwned(dir: string, uid: number, gid: number): void {
  if (existsSync(dir)) return;
  mkdirOwned(dirname(dir), uid, gid);
  mkdirSync(dir, { mode: 0o755 });
  chownSync(dir, uid, gid);
}

function rmdirIfEmpty(dir: string): void {
  if (existsSync(dir) && safeReaddir(dir).length === 0) rmdirSync(dir);
}

function safeReaddir(dir: string, dirsOnly = false): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => !dirsOnly || e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** True when `path` exists (for tests asserting cleanup). */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
