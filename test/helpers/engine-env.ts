// A real engine around a real rclone for integration tests: temp dirs, a recording wrapper around the real
// spawner (so a test can SIGKILL rclone), tree checksums to compare both sides.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import type { GlobalSettings, JobConfig } from '../../src/config/types.js';
import type { RunHooks, RunRecord, RunRequest } from '../../src/run/types.js';
import { createJobRunner, type EngineRunner } from '../../src/run/runner.js';
import { systemClock } from '../../src/platform/clock.js';
import { createSpawner } from '../../src/platform/spawner.js';
import type { Child, Spawner } from '../../src/ports.js';
import { probeRclone } from '../../src/platform/rclone-probe.js';
import { RecordingLogger } from './fake-spawner.js';
import { makeGlobal, makeJob } from './job.js';

export interface SpawnedChild {
  args: readonly string[];
  child: Child;
}

export interface EngineEnv {
  dir: string;
  local: string;
  job: JobConfig;
  global: GlobalSettings;
  runner: EngineRunner;
  logger: RecordingLogger;
  spawned: SpawnedChild[];
  run(request?: RunRequest, jobOverrides?: Partial<JobConfig>, hooks?: RunHooks): Promise<RunRecord>;
}

export function tempDir(t: TestContext, prefix = 'rbm-it-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function createEngineEnv(opts: { rclone: string; dir: string; path2: string; env?: Record<string, string | undefined>; job?: Partial<JobConfig> }): EngineEnv {
  const local = join(opts.dir, 'local');
  const configPath = join(opts.dir, 'empty-rclone.conf');
  writeFileSync(configPath, '');
  const env = opts.env ?? { ...process.env, RCLONE_CONFIG: configPath };
  const real = createSpawner();
  const spawned: SpawnedChild[] = [];
  const spawner: Spawner = {
    spawn(command, args, options) {
      const child = real.spawn(command, args, options);
      spawned.push({ args, child });
      return child;
    },
  };
  const logger = new RecordingLogger();
  const runner = createJobRunner({ spawner, clock: systemClock, logger, stateDir: join(opts.dir, 'state'), probeCaps: (binary) => probeRclone(binary), env });
  const job = makeJob({ name: 'pair', local, path2: opts.path2, ...opts.job });
  const global = makeGlobal({ rcloneBinary: opts.rclone, redirectRcloneLogOutput: true }); // rclone lines land in env.logger for assertions
  let runId = 0;
  return {
    dir: opts.dir,
    local,
    job,
    global,
    runner,
    logger,
    spawned,
    run(request: RunRequest = {}, jobOverrides: Partial<JobConfig> = {}, hooks: RunHooks = {}): Promise<RunRecord> {
      return runner.run({ ...job, ...jobOverrides }, global, request, ++runId, hooks);
    },
  };
}

/** relative path → sha256 of every file under `dir` (RCLONE_TEST sentinels and rclone temp files excluded unless asked). */
export function treeHashes(dir: string, opts: { keepSentinel?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const rel = relative(dir, path);
        if (!opts.keepSentinel && rel === 'RCLONE_TEST') continue;
        out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
      }
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function hashOf(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }
}
