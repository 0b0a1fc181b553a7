// The real Clock: Date.now and timers that never keep the process alive and survive long delays
// (Node fires timeouts over 2^31-1 ms at once, so long waits are re-armed in steps).

import type { Clock, Timer } from '../ports.js';

export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void): Timer {
    const due = Date.now() + Math.max(0, ms);
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const left = due - Date.now();
      if (left <= 0) {
        handle = undefined;
        fn();
        return;
      }
      handle = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      handle.unref();
    };
    const left = due - Date.now();
    handle = setTimeout(arm, Math.min(Math.max(0, left), MAX_TIMER_MS));
    handle.unref();
    return {
      cancel(): void {
        if (cancelled) return;
        cancelled = true;
        if (handle) clearTimeout(handle);
      },
    };
  },
};
