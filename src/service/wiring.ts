// The real adapters of the service process: config files, rclone detection, the engine, winston logs and D-Bus.
// The other half of the composition root (daemon.ts holds the wiring logic; this file only builds the parts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { addJobToConfigText, removeJobFromConfigText, writeConfigAtomic } from '../config/edit.js';
import { createConfigLoader, defaultConfigPath, parseConfigWithRclone } from '../config/load.js';
import type { Config, RcloneCapabilities } from '../config/types.js';
import { nodeSocketAddress, sessionBusAddress } from '../dbus/address.js';
import { startDbusServer } from '../dbus/server.js';
import { findCpulimit } from '../run/cpulimit.js';
import { defaultStateDir, ensurePrivateDir, firstSeenPath, jobPaths, logsDir, pausedJobsPath, rcloneProbeCachePath, snoozesPath } from '../state/paths.js';
import { replaceFileNoSync } from '../state/state-store.js';
import { JOB_NAME_PATTERN } from '../config/types.js';
import { createJobRunner } from '../run/runner.js';
import { RbmError, errorText } from '../errors.js';
import { createLogger, type ClosableLogger } from '../log/logger.js';
import { systemClock } from '../platform/clock.js';
import { probeRclone } from '../platform/rclone-probe.js';
import { createSpawner } from '../platform/spawner.js';
import { LOCAL_TIMEZONE } from '../conditions/zone.js';
import type { ControlApi } from '../api/control-api.js';
import type { Clock, Logger } from '../ports.js';
import { nullLogger } from '../ports.js';
import { nullNotifier } from '../platform/notify.js';
import { createDesktopNotifier } from '../platform/desktop-notifier.js';
import { createDetailsLauncher, createHookRunner, hookLimitMs } from '../platform/hook-runner.js';
import { createSystemMonitor } from '../platform/system-monitor.js';
import { createTreeWatcher } from '../platform/tree-watcher.js';
import { createAlerts, type Alerts } from './alerts.js';
import { VERSION } from '../version.js';
import { createServiceFrom, type DaemonPlatform } from './daemon.js';
import { NO_SNOOZE, formatSnoozeRecord, parseSnoozeRecord, type SnoozeRecord, type SnoozeStore } from './snoozes.js';
import { parseFirstSeen, type FirstSeenStore } from './first-seen.js';
import type { ConfigEditor, Service } from './service.js';

/** A filters file's text for the watch; undefined when unreadable (the run reports that itself). */
function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The service's alerts over the real session bus and processes (a connection of their own, not the server's). */

function createRealAlerts(env: Readonly<Record<string, string | undefined>>, deps: { api: ControlApi; logger: Logger; detailsCommand: () => readonly string[] }): Alerts {
  const busAddress = sessionBusAddress(env);
  const hooks = createHookRunner({ clock: systemClock, logger: deps.logger, baseEnv: env, limitMs: hookLimitMs(env) });
  const desktop = createDesktopNotifier({
    busAddress: busAddress ? nodeSocketAddress(busAddress) : undefined,
    clock: systemClock,
    logger: deps.logger,
    onAction: (id, key) => alerts.actionInvoked(id, key),
    onClosed: (id) => alerts.notificationClosed(id),
    onServerChanged: () => alerts.serverChanged(),
  });
  const alerts: Alerts = createAlerts({ ...deps, clock: systemClock, desktop, hooks, launch: createDetailsLauncher(env, deps.logger) });
  return alerts;
}

export function createRealPlatform(env: Readonly<Record<string, string | undefined>> = process.env): DaemonPlatform {
  const home = env.HOME ?? homedir();
  const stateDir = defaultStateDir(env);
  const spawner = createSpawner();
  const probeCaps = (binary: string): Promise<RcloneCapabilities> => probeRclone(binary, { cacheFile: rcloneProbeCachePath(stateDir) });
  let logger: ClosableLogger | undefined;

  const warnNoRclone = (log: Logger) => (e: unknown): void =>
    log.warn('cannot detect the rclone version; options are checked without it', { error: errorText(e) });

  let loader: ReturnType<typeof createConfigLoader> | undefined;
  /** The file names the rclone binary, whose flags then check the options; unchanged files are not parsed again. */
  async function load(path: string, log: Logger): Promise<Config> {
    loader ??= createConfigLoader({ home, probe: probeCaps, onProbeError: warnNoRclone(log) });
    return (await loader(path)).config;
  }

  /** Verify the edited text as a whole config before it replaces the file. */
  async function verify(path: string, text: string): Promise<void> {
    await parseConfigWithRclone(text, { file: path, home, probe: probeCaps, onProbeError: () => {} });
  }

  const editor: ConfigEditor = {
    async addJob(path, name, definition) {
      const next = addJobToConfigText(await readFile(path, 'utf8'), name, definition);
      await verify(path, next);
      await writeConfigAtomic(path, next);
    },
    async removeJob(path, name) {
      const next = removeJobFromConfigText(await readFile(path, 'utf8'), name);
      await verify(path, next);
      await writeConfigAtomic(path, next);
    },
  };

  const pausedPath = pausedJobsPath(stateDir);
  const pausedJobs = {
    load(): string[] {
      let text: string;
      try {
        text = readFileSync(pausedPath, 'utf8');
      } catch {
        return []; // never paused anything
      }
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string' && JOB_NAME_PATTERN.test(name)) : [];
    },
    save(names: string[]): void {
      ensurePrivateDir(stateDir);
      replaceFileNoSync(pausedPath, `${JSON.stringify(names)}\n`);
    },
  };

  const snoozeFile = snoozesPath(stateDir);
  const snoozes: SnoozeStore = {
    load(): SnoozeRecord {
      let text: string;
      try {
        text = readFileSync(snoozeFile, 'utf8');
      } catch {
        return NO_SNOOZE; // never snoozed anything
      }
      return parseSnoozeRecord(text);
    },
    save(record: SnoozeRecord): void {
      ensurePrivateDir(stateDir);
      replaceFileNoSync(snoozeFile, formatSnoozeRecord(record));
    },
  };

  const firstSeenFile = firstSeenPath(stateDir);
  const firstSeen: FirstSeenStore = {
    load() {
      let text: string;
      try {
        text = readFileSync(firstSeenFile, 'utf8');
      } catch {
        return {}; // a first start: every job is seen now
      }
      return parseFirstSeen(text);
    },
    save(times) {
      ensurePrivateDir(stateDir);
      replaceFileNoSync(firstSeenFile, `${JSON.stringify(times)}\n`);
    },
  };

  return {
    env,
    version: VERSION,
    clock: systemClock,
    createLogger({ consoleLog }) {
      logger = createLogger({ logDir: logsDir(stateDir), console: consoleLog, journal: env.JOURNAL_STREAM !== undefined && env.JOURNAL_STREAM !== '', level: env.RBM_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
      return logger;
    },
    closeLogger: () => logger?.close() ?? Promise.resolve(),
    createRunner: ({ logger: log, clock, readOnly }) => createJobRunner({ spawner, clock, logger: log, stateDir, probeCaps, cpulimitPath: findCpulimit(env.PATH), env, ...(readOnly === true ? { readOnly } : {}) }),
    loadConfig: load,
    probeCaps,
    editor,
    pausedJobs,
    snoozes,
    firstSeen,
    watchPlatform: { createTreeWatcher, workdirOf: (name) => jobPaths(stateDir, name).workdir, barrierDirOf: (name) => `${jobPaths(stateDir, name).dir}/watch-barrier`, serviceDirs: [stateDir, dirname(defaultConfigPath({ HOME: home, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME }))], readText: readTextOrUndefined },
    defaultConfigPath: () => defaultConfigPath({ HOME: home, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME }),
    // Schedules are the user's wall clock: the host's zone, named explicitly (TZ= in a unit drop-in changes it).
    timezone: LOCAL_TIMEZONE,
    startBus: (api, log) => {
      const busAddress = sessionBusAddress(env);
      return startDbusServer(api, { logger: log, ...(busAddress ? { busAddress } : {}) });
    },
    createAlerts: (deps) => createRealAlerts(env, deps),
    createSystemMonitor: (log) => createSystemMonitor({ logger: log.child({ component: 'system-bus' }), env }),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}

/** `read`: show what the state directory holds (nothing runs, nothing is written); `act`: runs go through it. */
export type StandaloneMode = 'read' | 'act';

export interface StandaloneOptions {
  env: Readonly<Record<string, string | undefined>>;
  mode: StandaloneMode;
  configPath: string | undefined;
  dryRun: boolean;
  consoleLog: boolean;
}

export interface StandaloneService {
  service: Service;
  /** Stop the service (only once nothing runs) and flush the logs. */
  close(): Promise<void>;
}

/** The scheduler's timers never fire: a service inside rbmctl runs what it is asked to, never a schedule or a retry. */
export function clockWithoutTimers(clock: Clock): Clock {
  return { now: () => clock.now(), setTimer: () => ({ cancel: () => undefined }) };
}

/** The config as loaded, but with no start-up runs: a standalone service runs exactly the jobs it is asked for. */
export function withoutStartupRuns(config: Config): Config {
  return { ...config, global: { ...config.global, runMissedJobs: false, runInitialSyncOnStartup: false } };
}

/**
 * The service built inside rbmctl without a bus (sync --standalone, and rbmctl when no service runs): the same
 * ControlApi, runner and run records as the service process. A config that does not load is thrown in `act` mode
 * (nothing can run); in `read` mode it is shown as the service would show it (Status().config_error).
 */
export async function startStandaloneService(options: StandaloneOptions): Promise<StandaloneService> {
  const platform = createRealPlatform(options.env);
  const stateDir = defaultStateDir(options.env);
  const act = options.mode === 'act';
  // Only runs log (to the service's log files, and the console with --console-log); a look writes nothing.
  const fileLogger = act ? createLogger({ logDir: logsDir(stateDir), console: options.consoleLog, journal: false, level: 'info' }) : undefined;
  const logger = fileLogger ?? nullLogger;
  let loadError: unknown;
  const service = createServiceFrom(platform, {
    configPath: options.configPath ?? platform.defaultConfigPath(),
    dryRun: options.dryRun,
    logger,
    clock: act ? clockWithoutTimers(platform.clock) : platform.clock,
    notifier: nullNotifier,
    readOnly: !act,
    loadConfig: async (path) => {
      try {
        return withoutStartupRuns(await platform.loadConfig(path, logger));
      } catch (e: unknown) {
        loadError = e;
        throw e;
      }
    },
    // A look shows the jobs the service keeps paused; a standalone run is the user's explicit request (as before).
    ...(act || !platform.pausedJobs ? {} : { pausedJobs: { load: () => platform.pausedJobs?.load() ?? [], save: () => undefined } }),
    // A look shows the snoozes and writes nothing; without a service, rbmctl snooze in-process keeps them for it.
    ...(platform.snoozes ? { snoozes: act ? { ...platform.snoozes, prunes: false } : { load: () => platform.snoozes?.load() ?? NO_SNOOZE, save: () => undefined } } : {}),
    // Only the service records when it first saw a job; a look or a one-off run reads what it recorded.
    ...(platform.firstSeen ? { firstSeen: { load: () => platform.firstSeen?.load() ?? {}, save: () => undefined } } : {}),
  });
  const close = async (): Promise<void> => {
    if (act) await service.shutdown();
    await fileLogger?.close();
  };
  await service.load();
  if (act && loadError !== undefined) {
    await close();
    throw loadError instanceof Error ? loadError : new RbmError('InvalidConfig', errorText(loadError));
  }
  if (act) await service.start();
  return { service, close };
}
