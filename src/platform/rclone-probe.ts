// Detects what the installed rclone offers by running it (argv, no shell), once per binary and file version.
// Parsing lives in rclone/caps.ts; this adapter only runs the three commands and caches the result, in memory
// and (optionally) in a file, so a service start does not pay for three rclone processes when rclone did not change.

import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { RbmError } from '../errors.js';
import { MIN_RCLONE_VERSION, buildCapabilities, compareVersions, parseRcloneVersion } from '../rclone/caps.js';
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
    return { pid: child.pid, exited, kill: (signal) => void child.kill(signal as NodeJS.Signals) };
  },
};

/** What identifies one version of a binary file: an upgrade or a replacement changes at least one of these. */
interface FileIdentity {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
}

interface CacheEntry {
  identity: FileIdentity;
  caps: Promise<RcloneCapabilities>;
}

/** One record of the cache file (a JSON array of them, one per resolved binary path). */
interface DiskRecord {
  path: string;
  identity: FileIdentity;
  version: string;
  flags: string[];
}

const DISK_CACHE_FORMAT = 1;
const MAX_DISK_RECORDS = 16;

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino;
}

function isDiskRecord(value: unknown): value is DiskRecord {
  const r = value as Partial<DiskRecord> | null;
  return (
    typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.version === 'string' && Array.isArray(r.flags) && r.flags.every((f) => typeof f === 'string') &&
    typeof r.identity === 'object' && r.identity !== null && ['mtimeMs', 'ctimeMs', 'size', 'ino'].every((k) => typeof (r.identity as unknown as Record<string, unknown>)[k] === 'number')
  );
}

/** The records of a cache file; anything unreadable or of another format is no cache at all. */
async function readDiskCache(file: string): Promise<DiskRecord[]> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { format?: unknown; records?: unknown };
    if (parsed.format !== DISK_CACHE_FORMAT || !Array.isArray(parsed.records)) return [];
    return parsed.records.filter(isDiskRecord);
  } catch {
    return [];
  }
}

/** Best effort: a cache that cannot be written only costs the next start a probe. Private (0600 in 0700). */
async function writeDiskCache(file: string, record: DiskRecord): Promise<void> {
  try {
    const others = (await readDiskCache(file)).filter((r) => r.path !== record.path).slice(-(MAX_DISK_RECORDS - 1));
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ format: DISK_CACHE_FORMAT, records: [...others, record] }) + '\n', { mode: 0o600 });
    await rename(temp, file);
  } catch {
    // read-only or full state dir: probe again next time
  }
}

/** Capabilities rebuilt from a cache record (the version and flags the probe found). */
function capsFromRecord(binary: string, record: DiskRecord): RcloneCapabilities {
  return { binary, ...parseRcloneVersion(`rclone v${record.version}`), flags: new Set(record.flags) };
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

export interface ProbeOptions {
  /** Runs the probe commands (default: execFile). */
  spawner?: Spawner;
  /** A file that keeps probe results across processes (the service passes one under its state directory). */
  cacheFile?: string;
}

async function probeFile(binary: string, path: string, identity: FileIdentity, options: ProbeOptions): Promise<RcloneCapabilities> {
  if (options.cacheFile !== undefined) {
    const record = (await readDiskCache(options.cacheFile)).find((r) => r.path === path && sameIdentity(r.identity, identity));
    if (record) {
      try {
        return capsFromRecord(binary, record);
      } catch {
        // a record this version cannot use: probe
      }
    }
  }
  const caps = await probeUncached(binary, path, options.spawner ?? execFileSpawner);
  if (options.cacheFile !== undefined) await writeDiskCache(options.cacheFile, { path, identity, version: caps.version, flags: [...caps.flags] });
  return caps;
}

/**
 * Runs `rclone version`, `rclone bisync --help` and `rclone help flags` and returns what the binary offers.
 * Cached per resolved file (in memory, and in options.cacheFile), and probed again when the file's mtime, ctime,
 * size or inode changes (an upgrade). Throws RbmError('RcloneUnsupported') when rclone is missing, not rclone,
 * or older than 1.58.
 */
export async function probeRclone(binary: string, options: ProbeOptions = {}): Promise<RcloneCapabilities> {
  const path = await resolveBinary(binary);
  if (path === undefined) throw notFound(binary);
  let identity: FileIdentity;
  try {
    const info = await stat(path);
    identity = { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, size: info.size, ino: info.ino };
  } catch {
    throw notFound(binary);
  }
  const key = `${binary}\0${path}`;
  const cached = cache.get(key);
  if (cached && sameIdentity(cached.identity, identity)) return cached.caps;
  const caps = probeFile(binary, path, identity, options);
  cache.set(key, { identity, caps });
  caps.catch(() => {
    if (cache.get(key)?.caps === caps) cache.delete(key);
  });
  return caps;
}

/** Forget every cached probe (tests, and `rbmctl check-config` after an upgrade within one process). */
export function clearRcloneProbeCache(): void {
  cache.clear();
}
