// The rclone under test (newest available), a spawn-recording wrapper for the service's `rclone_binary`, and direct
// runs of a bisync argv as the baseline every service figure is divided by.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODERN_RCLONE } from './paths.js';
import { runTimed } from './procs.js';

export interface RcloneInfo {
  path: string;
  version: string;
  /** Where it came from: --rclone, the project cache, or PATH. */
  origin: 'option' | 'project cache' | 'PATH';
}

function versionOf(path: string): string {
  const out = execFileSync(path, ['version'], { encoding: 'utf8', timeout: 30_000 });
  return /rclone (v\S+)/.exec(out)?.[1] ?? 'unknown';
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `--rclone PATH` if given, else the project's cached modern rclone, else `rclone` on PATH. */
export function pickRclone(option: string | undefined): RcloneInfo {
  if (option !== undefined) return { path: option, version: versionOf(option), origin: 'option' };
  if (existsSync(MODERN_RCLONE)) return { path: MODERN_RCLONE, version: versionOf(MODERN_RCLONE), origin: 'project cache' };
  const found = onPath('rclone');
  if (found === undefined) throw new Error('no rclone found: pass --rclone PATH');
  return { path: found, version: versionOf(found), origin: 'PATH' };
}

/** One exec of the wrapper: wall-clock time (ms since the epoch, µs resolution) and the argv it passed on. */
export interface SpawnRecord {
  realtimeMs: number;
  argv: string[];
}

const SEP = '\x1f';

/**
 * Writes a bash wrapper that appends `$EPOCHREALTIME<US>arg<US>arg…` to `logFile`, then execs rclone with the
 * argv untouched. EPOCHREALTIME is a bash builtin (no fork), read first thing, so the record is the spawn time
 * plus bash's own start-up (~1 ms).
 */
export function writeSpawnWrapper(dir: string, rclone: string, logFile: string): string {
  const path = join(dir, 'rclone-wrapper');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    path,
    `#!/bin/bash\nt=$EPOCHREALTIME\nIFS=$'${SEP}'\nprintf '%s${SEP}%s\\n' "$t" "$*" >> ${q(logFile)}\nunset IFS\nexec ${q(rclone)} "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(logFile, '');
  return path;
}

export function readSpawnRecords(logFile: string): SpawnRecord[] {
  const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const out: SpawnRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [time = '', ...argv] = line.split(SEP);
    out.push({ realtimeMs: Number(time.replace(',', '.')) * 1000, argv });
  }
  return out;
}

export function isBisync(record: SpawnRecord): boolean {
  return record.argv[0] === 'bisync';
}

/** Runs `rclone <argv>` with output discarded (the floor: nobody reads it); resolves with wall ms and exit code. */
export async function runDirect(rclone: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null }> {
  const { ms, code } = await runTimed(rclone, argv, { env });
  return { ms, code };
}
