// Test doubles for the ports: a scripted Spawner (replays captured rclone output per call) and a manual Clock.
import type { Child, Clock, ExitStatus, LogMeta, Logger, SpawnOptions, Spawner, Timer } from '../../src/ports.js';

export interface Reply {
  lines?: string[];
  exit?: ExitStatus;
  /** Keep running until killed; a kill with `killExit(signal)` decides how it ends. */
  hang?: boolean;
  /** How a hanging child reacts to a signal: undefined = keep running. */
  onSignal?: (signal: NodeJS.Signals) => ExitStatus | undefined;
}

export interface SpawnCall {
  command: string;
  args: readonly string[];
  env: SpawnOptions['env'];
  /** Every option the caller passed (nice, onNiceError, …). */
  options: SpawnOptions;
  signals: NodeJS.Signals[];
}

export class ScriptedSpawner implements Spawner {
  readonly calls: SpawnCall[] = [];
  constructor(private readonly script: (command: string, args: readonly string[], index: number) => Reply) {}

  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
    const call: SpawnCall = { command, args: [...args], env: options.env, options, signals: [] };
    this.calls.push(call);
    const reply = this.script(command, args, this.calls.length - 1);
    let finish: (status: ExitStatus) => void = () => {};
    const exited = new Promise<ExitStatus>((resolve) => {
      finish = resolve;
    });
    queueMicrotask(() => {
      for (const line of reply.lines ?? []) options.onLine?.(line, 'stderr');
      if (!reply.hang) finish(reply.exit ?? { code: 0, signal: null });
    });
    return {
      pid: 4_000_000 + this.calls.length,
      exited,
      kill(signal: NodeJS.Signals): void {
        call.signals.push(signal);
        if (!reply.hang) return;
        const result = signal === 'SIGKILL' ? { code: null, signal } : reply.onSignal?.(signal);
        if (result) finish(result);
      },
    };
  }

  /** The calls that ran rclone bisync. */
  bisyncCalls(): SpawnCall[] {
    return this.calls.filter((c) => c.args[0] === 'bisync');
  }
}

export class ManualClock implements Clock {
  private timers: { due: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  setTimer(ms: number, fn: () => void): Timer {
    const timer = { due: this.current + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  advance(ms: number): void {
    this.current += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.due <= this.current);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

export class RecordingLogger implements Logger {
  constructor(readonly entries: { level: string; message: string; meta: LogMeta }[] = [], private readonly base: LogMeta = {}) {}
  private add(level: string, message: string, meta: LogMeta = {}): void {
    this.entries.push({ level, message, meta: { ...this.base, ...meta } });
  }
  debug(m: string, meta?: LogMeta): void { this.add('debug', m, meta); }
  info(m: string, meta?: LogMeta): void { this.add('info', m, meta); }
  warn(m: string, meta?: LogMeta): void { this.add('warn', m, meta); }
  error(m: string, meta?: LogMeta): void { this.add('error', m, meta); }
  child(meta: LogMeta): Logger { return new RecordingLogger(this.entries, { ...this.base, ...meta }); }
  messages(level?: string): string[] {
    return this.entries.filter((e) => level === undefined || e.level === level).map((e) => e.message);
  }
}
