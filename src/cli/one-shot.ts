// rbmctl's one-shot mode (sync --standalone, and sync when the service is not running): loads the config,
// builds the engine in this process and runs the jobs one after another (run/one-shot.ts prints the lines).
import { ConfigError } from '../errors.js';
import { defaultConfigPath, loadConfigWithRclone } from '../config/load.js';
import { runOneShot } from '../run/one-shot.js';
import { createJobRunner } from '../run/runner.js';
import { defaultStateDir, ensurePrivateDir, logsDir, rcloneProbeCachePath } from '../state/paths.js';
import { findCpulimit } from '../run/cpulimit.js';
import { createLogger } from '../log/logger.js';
import { systemClock } from '../platform/clock.js';
import { createSpawner } from '../platform/spawner.js';
import { probeRclone } from '../platform/rclone-probe.js';
import type { OneShotRequest } from './context.js';

export async function runOneShotSync(request: OneShotRequest, env: Readonly<Record<string, string | undefined>>, signal?: AbortSignal): Promise<number> {
  const home = env.HOME ?? '/';
  const path = request.config ?? defaultConfigPath({ XDG_CONFIG_HOME: env.XDG_CONFIG_HOME, HOME: home });
  const stateDir = defaultStateDir(env);
  // The service's probe file: a one-shot run does not start three rclone processes to learn what it already knows.
  const probe = (binary: string) => probeRclone(binary, { cacheFile: rcloneProbeCachePath(stateDir) });
  let loaded;
  try {
    loaded = await loadConfigWithRclone(path, { home, probe });
  } catch (e: unknown) {
    if (e instanceof ConfigError) {
      request.err.write(`rbmctl: ${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
      return e.exitCode;
    }
    throw e;
  }
  ensurePrivateDir(stateDir);
  const logger = createLogger({ logDir: logsDir(stateDir), console: request.consoleLog, journal: false, level: 'info' });
  try {
    const runner = createJobRunner({ spawner: createSpawner(), clock: systemClock, logger, stateDir, probeCaps: probe, cpulimitPath: findCpulimit(env.PATH), env });
    const runRequest = { trigger: 'manual' as const, ...(request.resync ? { resync: true } : {}), ...(request.force ? { force: true } : {}), ...(request.dryRun ? { dryRun: true } : {}) };
    return await runOneShot(loaded.config, request.jobs, runRequest, signal ? { runner, signal } : { runner }, (line) => void request.out.write(`${line}\n`));
  } finally {
    await logger.close();
  }
}
