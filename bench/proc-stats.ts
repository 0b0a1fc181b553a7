// Readings from /proc for one process: CPU time (clock ticks from stat, and ns from every thread's schedstat),
// context switches (summed over threads) and memory (VmRSS, private bytes from smaps_rollup).

import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  /** utime + stime from /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux). */
  cpuTicks: number;
  /** Sum of on-CPU time of every thread from /proc/PID/task/TID/schedstat, ns. */
  cpuNs: number;
  /** voluntary_ctxt_switches summed over threads (the thread-group leader's alone in `leaderVoluntary`). */
  voluntary: number;
  leaderVoluntary: number;
  involuntary: number;
  threads: number;
  rssKiB: number;
  privateKiB: number;
  pssKiB: number;
}

export const CLOCK_TICKS_PER_SECOND = 100;

function statusField(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "(comm)" start at field 3 (state): utime is field 14, stime field 15.
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  let cpuNs = 0;
  let voluntary = 0;
  let involuntary = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      voluntary += statusField(status, 'voluntary_ctxt_switches');
      involuntary += statusField(status, 'nonvoluntary_ctxt_switches');
      threads++;
    } catch {
      // the thread ended between readdir and read
    }
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    cpuTicks,
    cpuNs,
    voluntary,
    leaderVoluntary: statusField(status, 'voluntary_ctxt_switches'),
    involuntary,
    threads,
    rssKiB: statusField(status, 'VmRSS'),
    privateKiB: statusField(rollup, 'Private_Clean') + statusField(rollup, 'Private_Dirty') + statusField(rollup, 'Private_Hugetlb'),
    pssKiB: statusField(rollup, 'Pss'),
  };
}
