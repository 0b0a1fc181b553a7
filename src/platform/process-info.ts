// Is a PID alive, and is it still the same process (PID reuse)? Reads /proc on Linux.

import { readFileSync } from 'node:fs';

/**
 * True unless the kernel says no such process (EPERM means it exists under another user) or it is a zombie: a killed
 * rclone whose parent is gone stays a zombie until an init reaps it (some containers never do), and it holds nothing.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = processState(pid);
  return state !== 'Z' && state !== 'X';
}

/** Fields 3… of /proc/PID/stat (index 0 = field 3), [] when unknown. */
function statFields(pid: number): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

/** The process state letter (field 3: R, S, D, Z…), '' when unknown. */
export function processState(pid: number): string {
  return statFields(pid)[0] ?? '';
}

/** The process start time (clock ticks since boot, field 22 of /proc/PID/stat), '' when unknown. */
export function processStartTime(pid: number): string {
  return statFields(pid)[19] ?? '';
}
