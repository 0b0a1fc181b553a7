// Detects what the installed rclone offers by running it (argv, no shell), once per binary and file version.
// Parsing lives in config/rclone-caps.ts; this adapter only runs the three commands and caches the result.

import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { RbmError } from '../errors.js';
import { MIN_RCLONE_VERSION, buildCapabilities, compareVersions } from '../config/rclone-caps.js';
import type { RcloneCapabilities } from '../config/types.js';
import type { Child, ExitStatus, Spawner } from '../ports.js';

const PROBE_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * A minimal Spawner on execFile for the probe's short-lived commands: output is buffered (bounded by
 * maxBuffer) and handed to onLine after exit. Long-running rclone runs use the engine's streaming spawner.
 */
export const execFileSpawner: Spawner = {
  spawn(command, args, options = {}): Child {
    let resolveExit: (status: ExitStatus) => void = () => {};
    const exited = new Promise<ExitStatus>((resolve) => (resolveExit = resolve));
    const child = execFile(
      command,
      [...args],
      { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, timeout: PROBE_TIMEOUT_MS, env: { ...process.env, ...options.env }, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) },
      (error, stdout, stderr) => {
        for (const [text, stream] of [[stdout, 'stdout'], [stderr, 'stderr']] as const) {
          const lines = text.split('\n');
          if (lines.at(-1) === '') lines.pop();
          for (const line of lines) options.onLine?.(line, stream);
        }
        if (error === null) return resolveExit({ code: 0, signal: null });
        const code = typeof error.code === 'number' ? error.code : error.signal ? null : 127;
        resolveExit({ code, signal: error.signal ?? null });
      },
    );
    return { pid: child.pid, exited, kill: (signal) => void child.kill(signal) };
  },
};

interface CacheEntry {
  mtimeMs: number;
  size: number;
  caps: Promise<RcloneCapabilities>;
}

const cache = new Map<string, CacheEntry>();

/** The absolute file `binary` names: itself when it contains a slash, else the first match on PATH. */
async function resolveBinary(binary: string): Promise<string | undefined> {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '').split(delimiter).filter((dir) => isAbsolute(dir)).map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here, try the next PATH entry
    }
  }
  return undefined;
}

function notFound(binary: string): RbmError {
  return new RbmError('RcloneUnsupported', `rclone not found: ${binary}`, {
    hint: 'Install it (apt install rclone) or set rclone_binary in the config to the path of an rclone >= 1.58.',
  });
}

async function run(spawner: Spawner, binary: string, args: readonly string[]): Promise<{ status: ExitStatus; output: string }> {
  const lines: string[] = [];
  const child = spawner.spawn(binary, args, {
    env: { RCLONE_CONFIG: '/dev/null' },
    onLine: (line, stream) => {
      if (stream === 'stdout' && lines.length < 20_000) lines.push(line);
    },
  });
  const status = await child.exited;
  return { status, output: lines.join('\n') };
}

async function probeUncached(binary: string, path: string, spawner: Spawner): Promise<RcloneCapabilities> {
  const [version, bisyncHelp, helpFlags] = await Promise.all([
    run(spawner, path, ['version']),
    run(spawner, path, ['bisync', '--help']),
    run(spawner, path, ['help', 'flags']),
  ]);
  if (version.status.code === 127 && version.output === '') throw notFound(binary);
  let caps: RcloneCapabilities;
  try {
    caps = buildCapabilities(binary, version.output, bisyncHelp.output, helpFlags.status.code === 0 ? helpFlags.output : '');
  } catch (e: unknown) {
    throw new RbmError('RcloneUnsupported', `${binary} does not look like rclone: "rclone version" printed no version`, {
      hint: 'Set rclone_binary in the config to the path of rclone >= 1.58.',
      cause: e,
    });
  }
  if (compareVersions(caps.version, MIN_RCLONE_VERSION) < 0 || bisyncHelp.status.code !== 0) {
    throw new RbmError('RcloneUnsupported', `rclone ${caps.version} (${binary}) is too old: bisync needs rclone >= ${MIN_RCLONE_VERSION}`, {
      hint: 'Install a newer rclone (https://rclone.org/install/) and point rclone_binary at it.',
    });
  }
  return caps;
}

/**
 * Runs `rclone version`, `rclone bisync --help` and `rclone help flags` and returns what the binary offers.
 * Cached per resolved file, and probed again when the file's mtime or size changes (an upgrade).
 * Throws RbmError('RcloneUnsupported') when rclone is missing, not rclone, or older than 1.58.
 */
export async function probeRclone(binary: string, spawner: Spawner = execFileSpawner): Promise<RcloneCapabilities> {
  const path = await resolveBinary(binary);
  if (path === undefined) throw notFound(binary);
  let info: { mtimeMs: number; size: number };
  try {
    info = await stat(path);
  } catch {
    throw notFound(binary);
  }
  const key = `${binary}\0${path}`;
  const cached = cache.get(key);
  if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.caps;
  const caps = probeUncached(binary, path, spawner);
  cache.set(key, { mtimeMs: info.mtimeMs, size: info.size, caps });
  caps.catch(() => {
    if (cache.get(key)?.caps === caps) cache.delete(key);
  });
  return caps;
}

/** Forget every cached probe (tests, and `rbmctl check-config` after an upgrade within one process). */
export function clearRcloneProbeCache(): void {
  cache.clear();
}
