// An engine for the failure scenarios of issue 13: the real runner and rclone, with the spawner, logger and cpulimit
// a scenario needs. Under root, rclone can run without the capabilities that let root read a mode-000 file
// (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so "permission denied" is real for root too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { GlobalSettings, JobConfig } from '../../src/config/types.js';
import type { RunHooks, RunRecord, RunRequest } from '../../src/run/types.js';
import { createJobRunner, type EngineRunner } from '../../src/run/runner.js';
import { systemClock } from '../../src/platform/clock.js';
import { probeRclone } from '../../src/platform/rclone-probe.js';
import { createSpawner } from '../../src/platform/spawner.js';
import type { Child, Logger, Spawner } from '../../src/ports.js';
import { RecordingLogger } from './fake-spawner.js';
import { makeGlobal, makeJob } from './job.js';

export interface Spawned {
  command: string;
  args: readonly string[];
  child: Child;
  /** Set once the process is reaped. */
  reaped: boolean;
}

export interface FailureEnv {
  runner: EngineRunner;
  job: JobConfig;
  global: GlobalSettings;
  logger: Logger;
  spawned: Spawned[];
  run(request?: RunRequest, jobOverrides?: Partial<JobConfig>, hooks?: RunHooks): Promise<RunRecord>;
}

export const IS_ROOT = process.getuid?.() === 0;

/** The argv prefix that runs a program as root without root's file-permission override (empty when not root). */
export function withoutDacOverride(): string[] {
  if (!IS_ROOT) return [];
  const setpriv = execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).trim();
  return [setpriv, '--bounding-set=-dac_override,-dac_read_search', '--'];
}

export function createFailureEnv(opts: {
  rclone: string;
  dir: string;
  path2: string;
  env: Record<string, string | undefined>;
  job?: Partial<JobConfig>;
  global?: Partial<GlobalSettings>;
  logger?: Logger;
  cpulimitPath?: string;
  /** Run rclone (not cpulimit) without root's permission override. */
  unprivileged?: boolean;
}): FailureEnv {
  const real = createSpawner();
  const spawned: Spawned[] = [];
  const prefix = opts.unprivileged ? withoutDacOverride() : [];
  const spawner: Spawner = {
    spawn(command, args, options) {
      const wrap = command === opts.rclone && prefix.length > 0;
      const child = wrap ? real.spawn(prefix[0] ?? '', [...prefix.slice(1), command, ...args], options) : real.spawn(command, args, options);
      const entry: Spawned = { command, args, child, reaped: false };
      void child.exited.then(() => (entry.reaped = true));
      spawned.push(entry);
      return child;
    },
  };
  const logger = opts.logger ?? new RecordingLogger();
  const runner = createJobRunner({
    spawner,
    clock: systemClock,
    logger,
    stateDir: join(opts.dir, 'state'),
    probeCaps: (binary) => probeRclone(binary),
    env: opts.env,
    ...(opts.cpulimitPath !== undefined ? { cpulimitPath: opts.cpulimitPath } : {}),
  });
  const job = makeJob({ name: 'pair', local: join(opts.dir, 'local'), path2: opts.path2, ...opts.job });
  const global = makeGlobal({ rcloneBinary: opts.rclone, localBasePath: opts.dir, ...opts.global });
  let runId = 0;
  return {
    runner,
    job,
    global,
    logger,
    spawned,
    run(request: RunRequest = {}, jobOverrides: Partial<JobConfig> = {}, hooks: RunHooks = {}): Promise<RunRecord> {
      return runner.run({ ...job, ...jobOverrides }, global, request, ++runId, hooks);
    },
  };
}
