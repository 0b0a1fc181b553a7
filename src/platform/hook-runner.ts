// The user's commands started from alerts: the on_attention hook (argv, no shell; a bounded run time, then
// SIGTERM and SIGKILL to its whole process group; output to the log, bounded; one at a time from a bounded queue,
// so a slow hook never delays a sync) and the notification's details command (detached, reaped, not waited for).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { errorText } from '../errors.js';
import type { Readable } from 'node:stream';
import type { Clock, Logger, Timer } from '../ports.js';

export interface HookCall {
  argv: readonly string[];
  /** Added to the service's environment (RBM_JOB, RBM_STATE, …). */
  env: Readonly<Record<string, string>>;
  job: string;
}

export interface HookRunnerOptions {
  clock: Clock;
  logger: Logger;
  /** The service's environment, which the hook inherits. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** How long a hook may run before SIGTERM (default 30 s). */
  limitMs?: number;
  /** How long after SIGTERM before SIGKILL (default 5 s). */
  killAfterMs?: number;
  /** Hooks waiting to run at most (default 50); more are dropped with one log line per burst. */
  maxQueued?: number;
  /** Output lines logged per run at most (default 20). */
  maxLines?: number;
}

export interface HookRunner {
  /** Queue the hook; returns at once. */
  run(call: HookCall): void;
  /** Resolves once the queue is empty (tests, shutdown). */
  idle(): Promise<void>;
  /** Stop taking hooks; the running one is stopped now (SIGTERM, then SIGKILL) and waited for. */
  close(): Promise<void>;
}

export const DEFAULT_HOOK_LIMIT_MS = 30_000;
/** Characters of one output line kept (the rest of a longer line is dropped as it arrives, never buffered). */
export const MAX_LINE_CHARS = 2000;
/** For tests only: the service's wiring reads the hook's time limit (seconds) from this variable (docs/reliability.md). */
export const HOOK_LIMIT_ENV = 'RBM_TEST_HOOK_LIMIT_SECONDS';

/** The hook's time limit the service uses: the default, or the tests' override from the environment. */
export function hookLimitMs(env: Readonly<Record<string, string | undefined>>): number {
  const seconds = Number(env[HOOK_LIMIT_ENV]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_HOOK_LIMIT_MS;
}

interface HookResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** It exited, but left processes holding its output open until its limit stopped them. */
  leftRunning: boolean;
  error?: string;
}

/** Kill the hook's process group (a script's children too); the group id is the hook's pid (detached). */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Splits one stream's text into lines keeping at most `maxChars` of the line being read, and nothing once
 * `wanted()` says no more lines are logged: a hook writing without newlines costs no memory.
 */
export class LineKeeper {
  private current = '';
  private started = false;

  constructor(private readonly maxChars: number, private readonly wanted: () => boolean, private readonly emit: (line: string) => void) {}

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.append(text.slice(start, nl));
      this.flush();
      start = nl + 1;
    }
    if (start < text.length) this.append(text.slice(start));
  }

  /** The stream ended: an unfinished last line is still a line. */
  end(): void {
    if (this.started) this.flush();
  }

  /** Characters held for the line being read (never more than maxChars). */
  keptChars(): number {
    return this.current.length;
  }

  private append(part: string): void {
    this.started = true;
    if (this.current.length < this.maxChars && this.wanted()) this.current += part.slice(0, this.maxChars - this.current.length);
  }

  private flush(): void {
    const line = this.current.endsWith('\r') ? this.current.slice(0, -1) : this.current;
    this.current = '';
    this.started = false;
    this.emit(line);
  }
}

export function createHookRunner(options: HookRunnerOptions): HookRunner {
  const { clock, logger } = options;
  const limitMs = options.limitMs ?? DEFAULT_HOOK_LIMIT_MS;
  const killAfterMs = options.killAfterMs ?? 5000;
  const maxQueued = options.maxQueued ?? 50;
  const maxLines = options.maxLines ?? 20;
  const queue: HookCall[] = [];
  /** Hooks (by argv) whose last run failed and was reported: reported again only after a success. */
  const failing = new Set<string>();
  let running: Promise<void> | undefined;
  /** Stops the hook that runs now (its process group), for a shutdown. */
  let stopCurrent: (() => void) | undefined;
  let droppedReported = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  // A run ends when the hook exited AND its stdout and stderr reached EOF: every process of the group inherited
  // the pipes, so EOF means nothing it started still writes there. The limit timer stays armed until then (a hook
  // that exits but leaves `something &` behind is stopped at its limit); at the end the group is killed, so nothing
  // it started outlives it. After SIGKILL, one more killAfterMs bounds the wait (a process that left the group).
  function execute(call: HookCall): Promise<HookResult> {
    const [command, ...args] = call.argv;
    const log = logger.child({ job: call.job });
    return new Promise<HookResult>((resolve) => {
      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        // detached: its own process group, so the limit stops what a script started too.
        child = spawn(command!, args, { env: { ...options.baseEnv, ...call.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (e: unknown) {
        resolve({ code: null, signal: null, timedOut: false, leftRunning: false, error: errorText(e) });
        return;
      }
      let lines = 0;
      let timedOut = false;
      let leftRunning = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let openStreams = 2;
      let kill: Timer | undefined;
      let giveUp: Timer | undefined;
      let settled = false;
      const stopGroup = (): void => {
        killGroup(child.pid, 'SIGTERM');
        kill ??= clock.setTimer(killAfterMs, () => {
          killGroup(child.pid, 'SIGKILL');
          giveUp ??= clock.setTimer(killAfterMs, () => settle());
        });
      };
      const limit = clock.setTimer(limitMs, () => {
        if (exit === undefined) timedOut = true;
        else leftRunning = true;
        stopGroup();
      });
      stopCurrent = stopGroup;
      const settle = (error?: string): void => {
        if (settled) return;
        settled = true;
        stopCurrent = undefined;
        limit.cancel();
        kill?.cancel();
        giveUp?.cancel();
        // Whatever it left behind (with its output closed) goes with it.
        killGroup(child.pid, 'SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ code: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, leftRunning, ...(error === undefined ? {} : { error }) });
      };
      const settleWhenDone = (): void => {
        if (exit !== undefined && openStreams === 0) settle();
      };
      const onLine = (line: string): void => {
        lines += 1;
        if (lines <= maxLines) log.info(`on_attention: ${line}`);
        else if (lines === maxLines + 1) log.info('on_attention: (more output not logged)');
      };
      for (const stream of [child.stdout, child.stderr]) {
        const keeper = new LineKeeper(MAX_LINE_CHARS, () => lines <= maxLines, onLine);
        stream.setEncoding('utf8');
        // Always read (and drop what is not kept): a hook never blocks on a full pipe.
        stream.on('data', (text: string) => keeper.push(text));
        stream.once('close', () => {
          keeper.end();
          openStreams -= 1;
          settleWhenDone();
        });
      }
      // A command that cannot be started (ENOENT, EACCES) emits 'error' and no 'exit'.
      child.once('error', (e) => {
        if (child.pid === undefined) settle(errorText(e));
      });
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        if (openStreams > 0) log.debug('the on_attention command exited; its output is still open (something it started runs on)', { command });
        settleWhenDone();
      });
    });
  }

  function report(call: HookCall, result: HookResult): void {
    const key = call.argv.join('\u0000');
    const ok = result.code === 0 && !result.timedOut && !result.leftRunning && result.error === undefined;
    if (ok) {
      if (failing.delete(key)) logger.info('the on_attention command works again', { job: call.job, command: call.argv[0] });
      return;
    }
    if (failing.has(key)) return;
    failing.add(key);
    const limitText = `${limitMs >= 1000 ? `${Math.round(limitMs / 1000)} s` : `${limitMs} ms`} (its time limit)`;
    const why = result.error !== undefined
      ? `could not be started: ${result.error}`
      : result.timedOut
        ? `was stopped after ${limitText}`
        : result.leftRunning
          ? `exited but left processes running; they were stopped after ${limitText}`
          : result.signal !== null
            ? `was killed by ${result.signal}`
            : `exited with ${result.code ?? '?'}`;
    logger.warn(`the on_attention command ${why}; further failures are not reported until it succeeds`, { job: call.job, command: call.argv[0] });
  }

  async function drain(): Promise<void> {
    for (let call = queue.shift(); call !== undefined; call = queue.shift()) {
      const result = await execute(call);
      if (closed) logger.info('the on_attention command was stopped: the service is stopping', { job: call.job, command: call.argv[0] });
      else report(call, result);
    }
    running = undefined;
    droppedReported = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  return {
    run(call) {
      if (closed || call.argv.length === 0) return;
      if (queue.length >= maxQueued) {
        if (!droppedReported) logger.warn('too many on_attention commands waiting; dropping the newest until the queue drains', { job: call.job });
        droppedReported = true;
        return;
      }
      queue.push(call);
      running ??= drain();
    },
    idle: () => (running ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
    async close() {
      closed = true;
      queue.length = 0;
      stopCurrent?.();
      await running;
    },
  };
}

/**
 * How the details command is started. Under systemd (INVOCATION_ID set) through `systemd-run --user`: the user
 * manager's environment has the display variables imported after the service started (DISPLAY, WAYLAND_DISPLAY),
 * and the command runs in a unit of its own, outside the service's cgroup, so a service restart does not kill the
 * terminal it opened. Otherwise directly.
 */
export function detailsLaunchArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): readonly string[] {
  const underSystemd = env.INVOCATION_ID !== undefined && env.INVOCATION_ID !== '';
  return underSystemd ? ['systemd-run', '--user', '--collect', '--quiet', '--', ...argv] : argv;
}

/**
 * Starts the commands the person asks for (a notification's details action): detached, not waited for, reaped. A
 * failed start or a non-zero exit is logged once, until one succeeds again.
 */
export function createDetailsLauncher(env: Readonly<Record<string, string | undefined>>, logger: Logger): (argv: readonly string[]) => void {
  let failureReported = false;
  const failed = (command: string, why: Record<string, unknown>): void => {
    logger.debug('the notification details command ended', { command, ...why });
    if (failureReported) return;
    failureReported = true;
    logger.warn('the notification details command failed; further failures are not reported until it works', { command, ...why });
  };
  return (argv) => {
    const [command, ...args] = detailsLaunchArgv(argv, env);
    if (command === undefined || argv.length === 0) return;
    try {
      const child = spawn(command, args, { env, stdio: 'ignore', detached: true });
      child.once('error', (e) => failed(command, { error: errorText(e) }));
      // Node reaps it on exit; unref so it never keeps the service alive.
      child.once('exit', (code, signal) => {
        if (code === 0) {
          logger.debug('the notification details command ended', { command, exitCode: 0 });
          failureReported = false;
        } else if (child.pid !== undefined) failed(command, signal !== null ? { signal } : { exitCode: code });
      });
      child.unref();
    } catch (e: unknown) {
      failed(command, { error: errorText(e) });
    }
  };
}
