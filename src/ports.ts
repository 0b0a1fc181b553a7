// Side effects the core needs, as types only: the clock, child processes and logging.
// Real adapters live in src/platform and src/log; tests pass doubles from test/helpers.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time in milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds. Real clocks clamp long delays and never keep the process alive on their own. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** A signal name as Node spells it (the pure core has no Node types). */
export type SignalName = `SIG${string}`;

export interface ExitStatus {
  /** Exit code, or null when the process died from a signal. */
  code: number | null;
  signal: SignalName | null;
}

export type OutputStream = 'stdout' | 'stderr';

export interface SpawnOptions {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Called for each complete output line (without the newline). Lines are capped in length by the adapter. */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Run the child this much below our CPU priority: its nice value becomes ours + `nice` (at most 19), like nice(1). */
  nice?: number;
  /** Called when `nice` could not be applied; the child then runs at our priority. */
  onNiceError?: (error: Error) => void;
}

export interface Child {
  readonly pid: number | undefined;
  /** Resolves once the process has exited and its output is drained (the process is reaped). Never rejects: spawn errors resolve with code 127. */
  readonly exited: Promise<ExitStatus>;
  kill(signal: SignalName): void;
}

/** Starts a program with an argv array; never through a shell. */
export interface Spawner {
  spawn(command: string, args: readonly string[], options?: SpawnOptions): Child;
}

export type LogMeta = Record<string, unknown>;

export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  child(meta: LogMeta): Logger;
}

export const nullLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
});
