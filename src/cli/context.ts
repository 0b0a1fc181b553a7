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

/** `read`: show what the state directory holds; `act`: run syncs and approvals in this process. */
export type StandaloneMode = 'read' | 'act';

/** The service built inside rbmctl, without a bus (sync --standalone, and rbmctl when no service runs). */
export interface StandaloneRequest {
  mode: StandaloneMode;
  config: string | undefined;
  dryRun: boolean;
  consoleLog: boolean;
}

/** A client of that in-process service: the same calls and values as over D-Bus. */
export interface StandaloneSession {
  client: RbmClient;
  /** Stop the in-process service and flush its logs. */
  close(): Promise<void>;
}

/** How a command runs when the service is not running. */
export interface StandaloneFallback {
  /** How the service is asked (a `read` never starts it through bus activation). */
  use: ClientUse;
  mode: StandaloneMode;
  /** Printed on stderr when the command falls back: says the service is not running and what happens instead. */
  note: string;
  /** Go standalone at once (sync --standalone). */
  standalone?: boolean;
}

/** Where a command's calls went: the running service, or a service built in this process. */
export type ServiceLocation = 'service' | 'standalone';

export interface CliDeps {
  connect(options: ClientOptions): Promise<RbmClient>;
  /** Build the service in this process (sync --standalone, and sync/status/history/approve when no service runs). */
  openStandalone?: ((request: StandaloneRequest) => Promise<StandaloneSession>) | undefined;
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
  /**
   * Like withClient, but when the service is not running (it never answered), print `fallback.note` on stderr and run
   * `fn` on a service built in this process; `standalone` goes there at once. Both give the same values.
   */
  withClientOrStandalone<T>(fn: (client: RbmClient, where: ServiceLocation) => Promise<T>, fallback: StandaloneFallback): Promise<T>;
}
