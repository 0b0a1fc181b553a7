// Process checks shared by the on_attention hook tests.
import { readFileSync } from 'node:fs';

/** PF_EXITING in /proc/<pid>/stat's flags: the process is inside exit() (its files may already be closed). */
const PF_EXITING = 0x4;

/**
 * Still running: not gone, not a zombie (left to a PID 1 that does not reap), and not already exiting. A process
 * closes its files (so its pipes reach EOF) inside exit(), a moment before it becomes a zombie: "exiting" is set
 * before that, so a check made after the runner saw EOF is exact.
 */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const flags = Number(fields[6]);
  return state !== 'Z' && state !== 'X' && (flags & PF_EXITING) === 0;
}
