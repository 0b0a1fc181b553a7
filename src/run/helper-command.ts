// The one runner of rclone helper commands (seed, the resync guard's check and listings, interrupt repair, the side
// check's lsf, hash detection's `backend features`): spawn with an argv array, hand each line to the caller, stop
// the child on the run's cancel, an optional timeout or the caller's request, and always wait until it is reaped.
// None of these commands holds bisync state, so one signal is a safe stop (the bisync itself: rules/stop-policy.ts).

import type { Child, Clock, ExitStatus, Logger, OutputStream, SignalName, SpawnOptions, Spawner } from '../ports.js';

/** What a step that runs helper commands needs (seed, the resync guard, the side check). */
export interface HelperCommandDeps {
  spawner: Spawner;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  /** CPU priority of the rclone processes (rclone_nice). */
  spawnOptions?: Pick<SpawnOptions, 'nice' | 'onNiceError'>;
}

export interface HelperCommand {
  spawner: Spawner;
  binary: string;
  args: readonly string[];
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** CPU priority of rclone (the same as the run's). */
  spawnOptions?: Pick<SpawnOptions, 'nice' | 'onNiceError'> | undefined;
  /** Each output line; `stop()` ends the command early (e.g. a listing that only had to show whether anything exists). */
  onLine?: (line: string, stream: OutputStream, stop: () => void) => void;
  /** The run's cancel: the command is stopped with `stopSignal` (also when already aborted before it starts). */
  signal?: AbortSignal | undefined;
  /** Default SIGTERM. */
  stopSignal?: SignalName;
  /** Stopped with `stopSignal` after this long. */
  timeout?: { clock: Clock; ms: number } | undefined;
}

export interface HelperResult {
  exit: ExitStatus;
  /** The command was stopped by us (cancel, timeout or `stop()`), not ended by itself. */
  stopped: boolean;
}

/** Runs one helper command to its end; never throws for the command's failure (the exit says it). */
export async function runHelperCommand(command: HelperCommand): Promise<HelperResult> {
  let stopped = false;
  // Set once spawn returns: a stop asked for before that (a line printed during spawn) is applied right after.
  const running: { child?: Child } = {};
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    running.child?.kill(command.stopSignal ?? 'SIGTERM');
  };
  const { onLine } = command;
  const child = command.spawner.spawn(command.binary, command.args, {
    ...command.spawnOptions,
    ...(command.env === undefined ? {} : { env: command.env }),
    ...(onLine === undefined ? {} : { onLine: (line: string, stream: OutputStream) => onLine(line, stream, stop) }),
  });
  running.child = child;
  if (stopped) child.kill(command.stopSignal ?? 'SIGTERM');
  const timer = command.timeout?.clock.setTimer(command.timeout.ms, stop);
  if (command.signal?.aborted) stop();
  else command.signal?.addEventListener('abort', stop, { once: true });
  const exit = await child.exited;
  timer?.cancel();
  command.signal?.removeEventListener('abort', stop);
  return { exit, stopped };
}
