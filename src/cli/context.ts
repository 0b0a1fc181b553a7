// What every rbmctl command gets: the process streams, injectable dependencies (the D-Bus client, programs,
// the clock) and the global options. Commands return an exit code; only main() turns errors into codes.

import type { ClientOptions, RbmClient } from '../dbus/client.js';
import type { RcloneProbe } from '../config/load.js';

export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A sync without the service (engine one-shot mode); resolves with the exit code. */
export interface OneShotRequest {
  jobs: readonly string[];
  resync: boolean;
  force: boolean;
  dryRun: boolean;
  config: string | undefined;
  consoleLog: boolean;
  json: boolean;
  out: TextSink;
  err: TextSink;
}

export interface CliDeps {
  connect(options: ClientOptions): Promise<RbmClient>;
  /** One-shot sync (sync --standalone, and sync when the service is not running); absent until wired. */
  runOneShot?: ((request: OneShotRequest) => Promise<number>) | undefined;
  /** Aborted on SIGINT/SIGTERM: watch ends, sync --wait stops waiting. */
  abort?: AbortSignal;
  /** Run a program (argv, never a shell) and collect its output. */
  runCommand(command: string, args: readonly string[]): Promise<CommandResult>;
  now(): number;
  /** What the rclone a config names offers (check-config). */
  probeRclone: RcloneProbe;
}

/** `read`: the command only looks (status, jobs, history, watch); `act`: it changes something and may start the service. */
export type ClientUse = 'read' | 'act';

export interface GlobalArgs {
  json: boolean;
  dryRun: boolean;
  consoleLog: boolean;
  config: string | undefined;
  /** Seconds. */
  timeout: number;
  /** false (--no-auto-start): not even commands that act may start the service. */
  autoStart: boolean;
}

export interface Ctx {
  io: CliIo;
  deps: CliDeps;
  args: GlobalArgs;
  out(text: string): void;
  err(text: string): void;
  /** Print a value as JSON (bigint as string). */
  json(value: unknown): void;
  /**
   * Connect, run `fn`, always disconnect. A read-only use never lets the bus start the service (NO_AUTO_START): a
   * look at the service must not bring it back after a stop; it fails with ServiceUnavailable instead.
   */
  withClient<T>(fn: (client: RbmClient) => Promise<T>, use?: ClientUse): Promise<T>;
}
