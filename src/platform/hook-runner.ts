// The user's commands started from alerts: the on_attention hook (argv, no shell; a bounded run time, then
// SIGTERM and SIGKILL to its whole process group; output to the log, bounded; one at a time from a bounded queue,
// so a slow hook never delays a sync) and the notification's details command (detached, reaped, not waited for).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
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
const MAX_LINE_CHARS = 2000;

interface HookResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
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

  function execute(call: HookCall): Promise<HookResult> {
    const [command, ...args] = call.argv;
    const log = logger.child({ job: call.job });
    return new Promise<HookResult>((resolve) => {
      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        // detached: its own process group, so the limit stops what a script started too.
        child = spawn(command!, args, { env: { ...options.baseEnv, ...call.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (e: unknown) {
        resolve({ code: null, signal: null, timedOut: false, error: errorText(e) });
        return;
      }
      let lines = 0;
      let timedOut = false;
      let kill: Timer | undefined;
      const term = clock.setTimer(limitMs, () => {
        timedOut = true;
        stopGroup();
      });
      const stopGroup = (): void => {
        killGroup(child.pid, 'SIGTERM');
        kill ??= clock.setTimer(killAfterMs, () => killGroup(child.pid, 'SIGKILL'));
      };
      stopCurrent = stopGroup;
      let settled = false;
      const finish = (result: HookResult): void => {
        if (settled) return;
        settled = true;
        stopCurrent = undefined;
        term.cancel();
        kill?.cancel();
        child.stdout.destroy();
        child.stderr.destroy();
        resolve(result);
      };
      const onLine = (line: string): void => {
        lines += 1;
        if (lines <= maxLines) log.info(`on_attention: ${line.slice(0, MAX_LINE_CHARS)}`);
        else if (lines === maxLines + 1) log.info('on_attention: (more output not logged)');
      };
      for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine);
      // A command that cannot be started (ENOENT, EACCES) emits 'error' and no 'exit'.
      child.once('error', (e) => {
        if (child.pid === undefined) finish({ code: null, signal: null, timedOut: false, error: errorText(e) });
      });
      // 'exit' (not 'close'): a grandchild that keeps the pipes open must not keep the hook "running".
      child.once('exit', (code, signal) => {
        // Whatever a stopped hook left behind in its group goes with it.
        if (timedOut || closed) killGroup(child.pid, 'SIGKILL');
        finish({ code, signal, timedOut });
      });
    });
  }

  function report(call: HookCall, result: HookResult): void {
    const key = call.argv.join('\u0000');
    const ok = result.code === 0 && !result.timedOut && result.error === undefined;
    if (ok) {
      if (failing.delete(key)) logger.info('the on_attention command works again', { job: call.job, command: call.argv[0] });
      return;
    }
    if (failing.has(key)) return;
    failing.add(key);
    const why = result.error !== undefined
      ? `could not be started: ${result.error}`
      : result.timedOut
        ? `was stopped after ${limitMs >= 1000 ? `${Math.round(limitMs / 1000)} s` : `${limitMs} ms`} (its time limit)`
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

/** Start a command the person asked for (a notification's details action): detached, not waited for, reaped. */
export function launchDetached(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, logger: Logger): void {
  const [command, ...args] = argv;
  if (command === undefined) return;
  try {
    const child = spawn(command, args, { env, stdio: 'ignore', detached: true });
    child.once('error', (e) => logger.warn('cannot start the notification details command', { command, error: errorText(e) }));
    // Node reaps it when it exits ('exit' is handled); unref so it never keeps the service alive.
    child.once('exit', () => undefined);
    child.unref();
  } catch (e: unknown) {
    logger.warn('cannot start the notification details command', { command, error: errorText(e) });
  }
}
