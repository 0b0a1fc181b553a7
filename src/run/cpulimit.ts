// CPU limit for rclone via cpulimit. cpulimit 2.x as a wrapper (`cpulimit -l N -- rclone …`) exits 0 whatever
// rclone returns and does not pass SIGTERM on, so instead rclone is started directly and cpulimit is attached
// to its PID (`--pid=PID --limit=N --lazy`: it exits when rclone does). Missing cpulimit → run unlimited.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Child, Logger, Spawner } from '../ports.js';

/** Absolute path of `cpulimit` on PATH, undefined when it is not installed. */
export function findCpulimit(pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, 'cpulimit');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export function cpulimitArgv(pid: number, percent: number): string[] {
  return [`--pid=${pid}`, `--limit=${Math.max(1, Math.round(percent))}`, '--lazy', '--quiet'];
}

/** Attach cpulimit to `pid`; undefined when no limit applies. The returned child ends on its own with rclone. */
export function attachCpuLimit(spawner: Spawner, cpulimitPath: string | undefined, pid: number | undefined, percent: number, logger: Logger): Child | undefined {
  if (percent >= 100 || pid === undefined || cpulimitPath === undefined) return undefined;
  const child = spawner.spawn(cpulimitPath, cpulimitArgv(pid, percent), {
    onLine: (line) => logger.debug('cpulimit', { line }),
  });
  void child.exited.then((status) => logger.debug('cpulimit exited', { code: status.code, signal: status.signal }));
  return child;
}
