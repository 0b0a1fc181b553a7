// Composition root of the service process: arguments, signal handlers first, then the runner, the service,
// the D-Bus name, READY=1; SIGHUP and file changes reload; SIGTERM/SIGINT and bus loss shut down gracefully.
import { parseArgs } from 'node:util';
import type { Config, JobConfig, RcloneCapabilities } from '../config/types.js';
import type { JobRunner } from '../run/types.js';
import type { WatchPlatform } from './watching.js';
import { BUS_NAME, daemonExitCode, errorText, isRbmError } from '../errors.js';
import { createNotifier, type Notifier } from '../platform/notify.js';
import { createFileWatcher } from '../platform/watcher.js';
import type { Clock, Logger } from '../ports.js';
import type { ControlApi } from '../api/control-api.js';
import type { Alerts } from './alerts.js';
import { createService, type ConfigEditor, type Service } from './service.js';
import type { FirstSeenStore } from './first-seen.js';
import type { SnoozeStore } from './snoozes.js';
import type { ServiceSystem } from './system-watch.js';
import { describeFacts } from '../sysbus/facts.js';

/** What the D-Bus adapter gives back once it owns the bus name. */
export interface BusHandle {
  close(): Promise<void>;
  onDisconnect(listener: () => void): void;
}

/** The real adapters, injected so this file holds only the wiring (src/bin/daemon.ts passes them). */
export interface DaemonPlatform {
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  clock: Clock;
  createLogger(options: { consoleLog: boolean }): Logger;
  /** Flush log files before exit (optional). */
  closeLogger?(): Promise<void>;
  createRunner(deps: { logger: Logger; clock: Clock; readOnly?: boolean }): JobRunner & {
    cpuLimitNotApplied?(global: Config['global']): boolean;
    checksumNote?(job: JobConfig, global: Config['global'], caps: RcloneCapabilities): string | undefined;
  };
  /** Load and validate the config (with the rclone capabilities where they can be detected). */
  loadConfig(path: string, logger: Logger): Promise<Config>;
  probeCaps(binary: string): Promise<RcloneCapabilities>;
  editor: ConfigEditor;
  /** Where the names of paused jobs are kept across restarts (optional: tests may leave it out). */
  pausedJobs?: { load(): string[]; save(names: string[]): void };
  /** Where the snoozed notifications are kept across restarts (optional: tests may leave it out). */
  snoozes?: SnoozeStore;
  /** Where the service keeps when it first saw each job (optional: tests may leave it out). */
  firstSeen?: FirstSeenStore;
  /** Sync on change (watching.ts); without it no job is watched. */
  watchPlatform?: WatchPlatform;
  defaultConfigPath(): string;
  /** The zone cron schedules are read in (LOCAL_TIMEZONE for the service: the host's wall clock). */
  timezone: string;
  /** Export the API and own BUS_NAME; rejects when the name is taken or the bus is unreachable. */
  startBus(api: ControlApi, logger: Logger): Promise<BusHandle>;
  /** Defaults to createNotifier({env, logger}). */
  createNotifier?(logger: Logger): Promise<Notifier>;
  /** Desktop notifications and the on_attention hook (issue 15); without it the service announces nothing. */
  createAlerts?(deps: { api: ControlApi; logger: Logger; detailsCommand: () => readonly string[] }): Alerts;
  /** The one system-bus monitor of the service process, built after READY (catch-up runs, run conditions); without it the service follows no system bus. */
  createSystemMonitor?(logger: Logger): ServiceSystem & { close(): Promise<void> };
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What differs between the service process and a service built inside rbmctl without a bus (wiring.ts). */
export interface ServiceParts {
  configPath: string;
  dryRun: boolean;
  logger: Logger;
  /** The scheduler's clock: a clock that arms no timers means nothing runs unless asked (standalone). */
  clock: Clock;
  notifier: Notifier;
  loadConfig: (path: string) => Promise<Config>;
  watchFiles?: (paths: string[]) => void;
  pausedJobs?: { load(): string[]; save(names: string[]): void };
  snoozes?: SnoozeStore;
  firstSeen?: FirstSeenStore;
  watchPlatform?: WatchPlatform;
  /** Only looks (rbmctl status/history without the service): the runner creates and reserves nothing. */
  readOnly?: boolean;
  /** The system-bus monitor (run conditions); none in rbmctl's in-process service. */
  system?: ServiceSystem;
}

/** The service over the platform's runner: the one place its dependencies are put together. */
export function createServiceFrom(platform: DaemonPlatform, parts: ServiceParts): Service {
  // The runner keeps the real clock: its timers stop rclone safely, whatever clock the scheduler has.
  const runner = platform.createRunner({ logger: parts.logger, clock: platform.clock, ...(parts.readOnly === true ? { readOnly: true } : {}) });
  return createService({
    configPath: parts.configPath,
    clock: parts.clock,
    logger: parts.logger,
    runner,
    loadConfig: parts.loadConfig,
    probeCaps: (binary) => platform.probeCaps(binary),
    notifier: parts.notifier,
    editor: platform.editor,
    version: platform.version,
    forceDryRun: parts.dryRun,
    timezone: platform.timezone,
    cpuLimitNotApplied: (global) => runner.cpuLimitNotApplied?.(global) ?? false,
    checksumNote: (job, global, caps) => runner.checksumNote?.(job, global, caps),
    ...(parts.watchFiles ? { watchFiles: parts.watchFiles } : {}),
    ...(parts.pausedJobs ? { pausedJobs: parts.pausedJobs } : {}),
    ...(parts.snoozes ? { snoozes: parts.snoozes } : {}),
    ...(parts.firstSeen ? { firstSeen: parts.firstSeen } : {}),
    ...(parts.watchPlatform ? { watchPlatform: parts.watchPlatform } : {}),
    ...(parts.system ? { system: parts.system } : {}),
  });
}

// The service's exit codes live in the error table (src/errors.ts DAEMON_EXIT_TABLE) with what a restart cures.
export const EXIT_USAGE = daemonExitCode('Usage');
export const EXIT_BUS = daemonExitCode('BusUnavailable');
export const EXIT_SOFTWARE = daemonExitCode('Internal');

const HELP = `Usage: rclone-bisync-manager [options]

The rclone-bisync-manager service: runs each sync job on its schedule and is controlled with rbmctl over the
session D-Bus. Normally started by systemd (systemctl --user start rclone-bisync-manager).

Options:
  --config FILE    config file (default: $XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml)
  -d, --dry-run    run every sync as a dry run (nothing changes)
  --console-log    also log to the console
  --version        print the version and exit
  -h, --help       print this help and exit

Signals: SIGTERM/SIGINT stop gracefully (running syncs may finish within shutdown_grace), SIGHUP reloads the config.
`;

interface DaemonArgs {
  configPath: string | undefined;
  dryRun: boolean;
  consoleLog: boolean;
  version: boolean;
  help: boolean;
}

export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'dry-run': { type: 'boolean', short: 'd' },
      'console-log': { type: 'boolean' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0] ?? ''}'`);
  return {
    configPath: values.config,
    dryRun: values['dry-run'] === true,
    consoleLog: values['console-log'] === true,
    version: values.version === true,
    help: values.help === true,
  };
}

/** Runs the service until it is stopped; resolves with the process exit code. Installs process signal handlers. */
export async function runDaemon(argv: readonly string[], platform: DaemonPlatform): Promise<number> {
  let args: DaemonArgs;
  try {
    args = parseDaemonArgs(argv);
  } catch (e: unknown) {
    platform.stderr(`rclone-bisync-manager: ${errorText(e)}\nTry: rclone-bisync-manager --help\n`);
    return EXIT_USAGE;
  }
  if (args.help) {
    platform.stdout(HELP);
    return 0;
  }
  if (args.version) {
    platform.stdout(`rclone-bisync-manager ${platform.version}\n`);
    return 0;
  }

  const logger = platform.createLogger({ consoleLog: args.consoleLog });
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  let stopping: Promise<void> | undefined;
  let stopCode = 0;
  let reload: (() => void) | undefined;
  let reloadChangedFile: (() => void) | undefined;
  let teardown: (() => Promise<void>) | undefined;

  function requestStop(reason: string, code: number): void {
    if (stopping) {
      logger.info('already stopping', { reason });
      return;
    }
    stopCode = code;
    logger.info('stopping', { reason });
    stopping = (async () => {
      try {
        await teardown?.();
      } catch (e: unknown) {
        logger.error('error during shutdown', { error: errorText(e) });
        stopCode = stopCode === 0 ? EXIT_SOFTWARE : stopCode;
      }
      resolveExit(stopCode);
    })();
  }

  // Signal handlers come first: a stop that arrives during start-up must not kill the process outright.
  const onTerm = (): void => requestStop('SIGTERM', 0);
  const onInt = (): void => requestStop('SIGINT', 0);
  const onHup = (): void => {
    if (reload) reload();
    else logger.info('SIGHUP before start-up finished; the config is being loaded anyway');
  };
  const onRejection = (reason: unknown): void => {
    logger.error('unhandled promise rejection (bug)', { error: errorText(reason), stack: reason instanceof Error ? reason.stack : undefined });
  };
  const onException = (e: Error): void => {
    logger.error('uncaught exception (bug); shutting down', { error: e.message, stack: e.stack });
    requestStop('uncaught exception', EXIT_SOFTWARE);
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const removeHandlers = (): void => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };

  try {
    const configPath = args.configPath ?? platform.defaultConfigPath();
    const notifier = await (platform.createNotifier ?? ((l: Logger) => createNotifier({ env: platform.env, logger: l })))(logger);
    const watcher = createFileWatcher({
      logger,
      onChange: (paths) => {
        logger.info('config or filters file changed; reloading', { paths });
        reloadChangedFile?.();
      },
    });
    // The details command of the last config that loaded (the alerts' default action opens it).
    let detailsCommand: readonly string[] = [];
    // The one system-bus monitor of this process, before the service: start-up runs already wait for their run
    // conditions. It connects in the background (nothing waits for its first reading); catch-up runs attach after READY.
    const system = platform.createSystemMonitor?.(logger);
    const service = createServiceFrom(platform, {
      ...(system ? { system } : {}),
      configPath,
      dryRun: args.dryRun,
      logger,
      clock: platform.clock,
      notifier,
      watchFiles: (paths) => watcher.setFiles(paths),
      loadConfig: async (path) => {
        const config = await platform.loadConfig(path, logger);
        detailsCommand = config.global.detailsCommand;
        return config;
      },
      ...(platform.pausedJobs ? { pausedJobs: platform.pausedJobs } : {}),
      ...(platform.snoozes ? { snoozes: platform.snoozes } : {}),
      ...(platform.firstSeen ? { firstSeen: platform.firstSeen } : {}),
      ...(platform.watchPlatform ? { watchPlatform: platform.watchPlatform } : {}),
    });
    let bus: BusHandle | undefined;
    let alerts: Alerts | undefined;
    teardown = async () => {
      reload = undefined;
      reloadChangedFile = undefined;
      watcher.close();
      await service.shutdown();
      await system?.close();
      await alerts?.stop();
      if (bus) {
        const closing = bus.close();
        await Promise.race([closing, new Promise<void>((resolve) => platform.clock.setTimer(5000, resolve))]).catch((e: unknown) =>
          logger.warn('closing the bus connection failed', { error: errorText(e) }),
        );
      }
      logger.info('stopped', { exitCode: stopCode });
    };

    logger.info('starting', { version: platform.version, pid: process.pid, config: configPath, dryRun: args.dryRun });
    // The config first (nothing runs yet): the bus adapter then publishes every job before it owns the name, so
    // clients see a complete service from its first appearance and no per-job signals are sent at start-up.
    await service.load();
    // Everything a client can see happens before the name is owned (the unit is Type=dbus: owning it is readiness).
    await service.recordInterruptedRuns();
    try {
      bus = await platform.startBus(service, logger);
    } catch (e: unknown) {
      const text = isRbmError(e) ? e.describe() : errorText(e);
      logger.error(`cannot own ${BUS_NAME} on the session bus; another instance is running, or the bus is unreachable`, { error: text });
      platform.stderr(`rclone-bisync-manager: cannot own ${BUS_NAME} on the session bus: ${text}\nIs another instance running? Check with: rbmctl status\n`);
      watcher.close();
      await system?.close(); // its connection would otherwise hold the process until its first reading ends
      removeHandlers();
      return EXIT_BUS;
    }
    // dbus-next emits nothing when the bus goes away: the adapter detects it, and we exit non-zero so systemd restarts us.
    bus.onDisconnect(() => {
      logger.error('lost the session bus connection; exiting so the service is restarted');
      requestStop('bus connection lost', EXIT_BUS);
    });
    if (stopping === undefined) {
      alerts = platform.createAlerts?.({ api: service, logger, detailsCommand: () => detailsCommand });
      alerts?.start();
      await service.start();
      reload = () => {
        service.reload().catch(() => {
          // Reported by the service (log, Status().ConfigError, STATUS=); the last good config stays.
        });
      };
      reloadChangedFile = () => {
        service.reloadChangedFile().catch(() => {
          // As above; a held-back path change is reported the same way.
        });
      };
      notifier.ready();
      service.startWatching(); // after READY=1: the walks of the watched folders do not delay start-up
      notifier.startWatchdog();
      const cpu = process.cpuUsage();
      // How long start-up took (since the process started) and its CPU time: the first thing to look at when a start feels slow.
      logger.info('ready', { jobs: service.status().jobs.length, status: service.statusLine(), startupMs: Math.round(performance.now()), startupCpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      // After READY: the system bus's first reading (up to its call timeouts) never delays start-up.
      if (system) {
        service.attachSystem(system);
        void system.ready.then(() => logger.debug('system bus read', { facts: describeFacts(system.facts()) }));
      }
    }
    const code = await exited;
    await stopping;
    return code;
  } catch (e: unknown) {
    logger.error('start-up failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
    platform.stderr(`rclone-bisync-manager: ${errorText(e)}\n`);
    return EXIT_SOFTWARE;
  } finally {
    removeHandlers();
    await platform.closeLogger?.().catch(() => undefined);
  }
}
