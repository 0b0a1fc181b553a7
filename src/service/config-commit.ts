// The config in force and how a new one gets there: verify (load, validate, hold back a suspicious path change from
// the file watcher) then commit; on any failure the last good config stays and the problem is reported.
import { existsSync, statSync } from 'node:fs';
import { jobPathChanges, suspiciousPathChange, type PathChange } from '../config/path-changes.js';
import type { Config, RcloneCapabilities } from '../config/types.js';
import { filtersFileOf } from '../rclone/args.js';
import { RbmError, errorText, isRbmError } from '../errors.js';
import type { Logger } from '../ports.js';
import { configErrorSummary } from './status-line.js';

/** Who asked for the load: an explicit reload confirms a path change the file watcher alone would hold back. */
export type LoadOrigin = 'explicit' | 'watcher';

export interface ConfigCommitDeps {
  configPath: string;
  logger: Logger;
  /** Reads and fully validates the config file; throws ConfigError (or RbmError) and has no side effects. */
  loadConfig: (path: string) => Promise<Config>;
  /** Detects the rclone in use (for status and logs); optional, failures are only logged. */
  probeCaps?: ((binary: string) => Promise<RcloneCapabilities>) | undefined;
  /** Told the files to watch (config file, filters files) after every load. */
  watchFiles?: ((paths: string[]) => void) | undefined;
  /** Puts a verified config to work (schedule, paused jobs, start-up runs); `current()` already returns it. */
  apply: (next: Config) => void;
  /** Told the result of every load (the ControlApi configReloaded event). */
  reloaded: (ok: boolean, error: string) => void;
}

export interface ConfigInForce {
  /** The last good config, undefined until one loaded. */
  current(): Config | undefined;
  /** The detected rclone of the config in force, undefined when unknown. */
  caps(): RcloneCapabilities | undefined;
  /** The full text of the last load's error, '' when it loaded cleanly. */
  error(): string;
  /** The same in one line for STATUS=. */
  errorLine(): string;
  /** Verify (load and validate everything) then commit; on failure the last good config stays in force and this throws. */
  loadAndCommit(origin?: LoadOrigin): Promise<void>;
}

function describeError(e: unknown): string {
  return isRbmError(e) ? e.describe() : errorText(e);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A watcher-driven reload must not point a job at a path that may be a cut or a typo: the whole file waits. */
function heldPathChange(changes: readonly PathChange[]): RbmError | undefined {
  const reasons = changes.flatMap((c) => {
    const why = suspiciousPathChange(c, isDirectory);
    return why === undefined ? [] : [`job '${c.job}': ${why}`];
  });
  if (reasons.length === 0) return undefined;
  return new RbmError('InvalidConfig', `config change not applied: ${reasons.join('; ')}`, {
    hint: 'A half-written or mistyped path would make the job resync against the wrong folder. Fix the path, or if it is meant, apply it with: rbmctl reload',
  });
}

export function createConfigCommit(deps: ConfigCommitDeps): ConfigInForce {
  const { configPath, logger } = deps;
  let config: Config | undefined;
  let configError = '';
  let configErrorLine = '';
  let caps: RcloneCapabilities | undefined;

  function watchedFiles(): string[] {
    const files = new Set<string>([configPath]);
    // The filters files the jobs' runs read (a global exclusion_rules_file no job uses changes no run).
    for (const job of config?.jobs ?? []) {
      const filtersFile = config && filtersFileOf(job, config.global);
      if (filtersFile !== undefined) files.add(filtersFile);
    }
    return [...files];
  }

  async function probe(binary: string): Promise<void> {
    if (!deps.probeCaps || caps?.binary === binary) return;
    try {
      caps = await deps.probeCaps(binary);
      logger.info('rclone detected', { binary, version: caps.version });
    } catch (e: unknown) {
      caps = undefined;
      logger.warn('cannot detect the rclone version', { binary, error: errorText(e) });
    }
  }

  function loadFailure(e: unknown): RbmError {
    if (!existsSync(configPath)) {
      return new RbmError('InvalidConfig', `config file ${configPath} does not exist`, {
        hint: 'Create it (see examples/ in the package, or use rbmctl add-job); the service picks it up as soon as it is saved.',
        cause: e,
      });
    }
    if (isRbmError(e)) return e;
    return new RbmError('InvalidConfig', `cannot load ${configPath}: ${errorText(e)}`, { hint: 'Fix the config file; the service reloads it when it is saved.', cause: e });
  }

  async function loadAndCommit(origin: LoadOrigin = 'explicit'): Promise<void> {
    let next: Config;
    let changes: PathChange[] = [];
    try {
      next = await deps.loadConfig(configPath);
      changes = jobPathChanges(config?.jobs ?? [], next.jobs);
      const held = origin === 'watcher' ? heldPathChange(changes) : undefined;
      if (held) throw held;
    } catch (e: unknown) {
      const error = loadFailure(e);
      configError = describeError(error);
      configErrorLine = configErrorSummary(error);
      logger.error('config not loaded; keeping the last good config', { path: configPath, error: configError, jobs: config?.jobs.length ?? 0 });
      deps.watchFiles?.(watchedFiles());
      deps.reloaded(false, configError);
      throw error;
    }
    const previousNames = new Set(config?.jobs.map((j) => j.name));
    for (const c of changes) {
      // Loud on purpose: the job's next run resyncs the new pair.
      logger.warn(`job '${c.job}': ${c.side} path changed by a reload; its next run resyncs the new pair`, { job: c.job, side: c.side, from: c.from, to: c.to, origin });
    }
    config = next;
    configError = '';
    configErrorLine = '';
    await probe(next.global.rcloneBinary);
    deps.apply(next);
    const names = next.jobs.map((j) => j.name);
    logger.info('config loaded', {
      path: configPath,
      jobs: names.length,
      added: names.filter((n) => !previousNames.has(n)),
      removed: [...previousNames].filter((n) => !names.includes(n)),
    });
    deps.watchFiles?.(watchedFiles());
    deps.reloaded(true, '');
  }

  return {
    current: () => config,
    caps: () => caps,
    error: () => configError,
    errorLine: () => configErrorLine,
    loadAndCommit,
  };
}
