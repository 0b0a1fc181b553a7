// The end of a graceful stop: running syncs may finish within shutdown_grace, then they are cancelled through the
// engine (which stops rclone the way that is safe for its version); resolves when no run is left.
import type { Clock, Logger, Timer } from '../ports.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/** DEFAULTS.shutdownGraceSec: fits the unit's TimeoutStopSec with rclone's 95 s stop. */
export const DEFAULT_GRACE_SEC = 10;

/** Wait for the running runs (scheduling already stopped), cancelling those still running after `graceMs`. */
export async function drainRuns(scheduler: Scheduler, clock: Clock, logger: Logger, graceMs: number): Promise<void> {
  let timer: Timer | undefined;
  const graceOver = new Promise<'grace'>((resolve) => {
    timer = clock.setTimer(graceMs, () => resolve('grace'));
  });
  const first = await Promise.race([scheduler.idle().then(() => 'idle' as const), graceOver]);
  timer?.cancel();
  if (first === 'grace') {
    logger.warn('shutdown grace over; stopping the running syncs', { running: scheduler.runningJobs(), graceSec: graceMs / 1000 });
    scheduler.cancelAll();
  }
  await scheduler.idle();
}
