// Freezing the rclone a service runs, the way a suspend freezes it: the bisync child of the service process is found
// in /proc (its argv holds `bisync`) and stopped with SIGSTOP, so a test can change the world (a metered network, a
// window end, PrepareForSleep) and assert what the service does while rclone cannot move on, whatever the speed of
// the machine. The job runs with a tight bwlimit (FROZEN_BWLIMIT) so the transfer cannot end before it is frozen;
// thaw() sends SIGUSR2 first (rclone's bandwidth-limit toggle, in 1.60 and 1.75), so the run then ends at full speed.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { DaemonProcess } from './daemon-process.js';

/** 10 KiB/s: the 4 MiB file of slowFiles() would take minutes, so it is still in flight whenever the test freezes it. */
export const FROZEN_BWLIMIT = '10k';

export interface FrozenRclone {
  pid: number;
  /** 'T' when every thread is stopped, else the state letters of its threads (from /proc), '' once it has exited. */
  state(): string;
  /** SIGUSR2 (the bandwidth limit off), then SIGCONT: the run goes on at full speed. */
  thaw(): void;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process has exited
  }
}

/** Pids of the direct children of `pid` (every thread's children file). */
export function childPids(pid: number): number[] {
  const pids = new Set<number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    for (const child of (readText(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ')) if (child.trim() !== '') pids.add(Number(child));
  }
  return [...pids];
}

function argvOf(pid: number): string[] {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((arg) => arg !== '');
}

/** The state letter of one thread ('T': stopped); the command name (field 2) may hold spaces: it follows the last ')'. */
function threadState(path: string): string {
  const stat = readText(path) ?? '';
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

function stateOf(pid: number): string {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return ''; // exited
  }
  const states = new Set(tids.map((tid) => threadState(`/proc/${pid}/task/${tid}/stat`)));
  states.delete(''); // a thread that ended while we read
  return [...states].sort().join('');
}

/** Resolves once every thread of `pid` is stopped. SIGSTOP takes effect when the kernel next schedules each thread. */
async function stopped(pid: number): Promise<void> {
  while (stateOf(pid) !== 'T') {
    assert.notEqual(stateOf(pid), '', `rclone ${pid} exited instead of stopping`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * SIGSTOP the service's running `rclone bisync` (call it once the run is known to be transferring: a JobProgress
 * with bytes, so the child exists now); resolves once it is stopped. Fails when there is not exactly one.
 */
export async function freezeBisync(t: TestContext, daemon: Pick<DaemonProcess, 'pid'> | number): Promise<FrozenRclone> {
  const parent = typeof daemon === 'number' ? daemon : daemon.pid;
  const found = childPids(parent).filter((pid) => argvOf(pid).includes('bisync'));
  assert.equal(found.length, 1, `one rclone bisync child of the service (${parent}): ${JSON.stringify(childPids(parent).map(argvOf))}`);
  const pid = found[0]!;
  const argv = argvOf(pid).join(' ');
  // A test that fails while rclone is frozen must not leave it stopped: SIGKILL reaches a stopped process.
  t.after(() => {
    if (stateOf(pid) === 'T' && argvOf(pid).join(' ') === argv) process.kill(pid, 'SIGKILL');
  });
  process.kill(pid, 'SIGSTOP');
  await stopped(pid);
  return {
    pid,
    state: () => stateOf(pid),
    thaw() {
      process.kill(pid, 'SIGUSR2');
      process.kill(pid, 'SIGCONT');
    },
  };
}

/**
 * Resolves with the first line of the process's output that matches, already printed or when it is; rejects at once
 * when a line matching `instead` comes first (the service did the opposite: fail now rather than wait forever).
 */
export function outputLine(daemon: Pick<DaemonProcess, 'child' | 'output' | 'exited'>, match: RegExp, instead?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      daemon.child.stdout?.removeListener('data', check);
      daemon.child.stderr?.removeListener('data', check);
    };
    function check(): void {
      for (const line of daemon.output().split('\n')) {
        if (match.test(line)) {
          done();
          resolve(line);
          return;
        }
        if (instead?.test(line) === true) {
          done();
          reject(new Error(`the service printed ${JSON.stringify(line)} instead of a line matching ${String(match)}:\n${daemon.output()}`));
          return;
        }
      }
    }
    // Listeners added after the daemon's own, so output() already holds the chunk.
    daemon.child.stdout?.on('data', check);
    daemon.child.stderr?.on('data', check);
    void daemon.exited.then(() => reject(new Error(`the service exited before printing ${String(match)}:\n${daemon.output()}`)));
    check();
  });
}
