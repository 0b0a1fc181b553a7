// Reads the nice value of every thread of a process from /proc (field 19 of /proc/<pid>/task/<tid>/stat).
import { readdirSync, readFileSync } from 'node:fs';

/** Field 19 (nice) of a /proc stat line; the command name (field 2) may hold spaces, so count after its ')'. */
export function niceOfStat(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[19 - 3]);
}

/** tid → nice for every thread of `pid`; threads that exit while we read are left out. */
export function threadNices(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), niceOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // gone
    }
  }
  return out;
}
