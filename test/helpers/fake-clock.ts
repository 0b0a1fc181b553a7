// A Clock double with separate wall and monotonic time, like the real one: timers fire on monotonic time,
// so `jump()` (suspend, NTP step, user change) moves now() without firing anything, while `advance()` moves both.
import type { Clock, Timer } from '../../src/ports.js';

interface Pending {
  dueMono: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(startMs = Date.UTC(2024, 0, 1, 0, 0, 0)) {
    this.wall = startMs;
  }

  now(): number {
    return this.wall;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: Pending = { dueMono: this.mono + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of armed, uncancelled timers. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Delay until the earliest armed timer, or undefined when none. */
  nextTimerIn(): number | undefined {
    const live = this.timers.filter((t) => !t.cancelled);
    if (live.length === 0) return undefined;
    return Math.min(...live.map((t) => t.dueMono)) - this.mono;
  }

  /** Let `ms` pass: fires due timers in order, each seeing its own due time. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.reduce<Pending | undefined>((a, t) => (t.dueMono <= target && (a === undefined || t.dueMono < a.dueMono || (t.dueMono === a.dueMono && t.seq < a.seq)) ? t : a), undefined);
      if (next === undefined) break;
      this.wall += next.dueMono - this.mono;
      this.mono = next.dueMono;
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }

  /** Step the wall clock by `ms` (may be negative) without any monotonic time passing. */
  jump(ms: number): void {
    this.wall += ms;
  }
}
