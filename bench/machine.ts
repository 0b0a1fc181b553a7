// The machine a run came from: cores, memory, kernel, Node, rclone, dbus-daemon and load. No host names or paths.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { RcloneInfo } from './rclone.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  rclone: string;
  rcloneOrigin: string;
  dbusDaemon: string;
  loadAverage: number[];
}

function dbusVersion(): string {
  try {
    return /(\d+\.\d+\.\d+)/.exec(execFileSync('dbus-daemon', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineInfo(rclone: RcloneInfo): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    rclone: rclone.version,
    rcloneOrigin: rclone.origin,
    dbusDaemon: dbusVersion(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
