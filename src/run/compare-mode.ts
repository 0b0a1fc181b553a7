// The facts behind the checksum compare (src/rclone/compare.ts): which hash types Path2 has, detected once per pair with
// `rclone backend features` and kept in the state dir, and whether the listings in a job's workdir carry hashes.

import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { mergeOptionMaps } from '../rclone/flags.js';
import { atLeast } from '../rclone/caps.js';
import { optionMapsFor, rcloneOnlyFlags } from '../rclone/args.js';
import { checksumNote, checksumSupport, COMPARE_MIN_VERSION, listingHashed, parseFeatureHashes, type ChecksumSupport, type ListingHashes, type RemoteHashes } from '../rclone/compare.js';
import type { Operation } from './types.js';
import { errorText } from '../errors.js';
import type { Clock, Logger, Spawner } from '../ports.js';
import { DIR_MODE, FILE_MODE } from '../state/paths.js';
import { runHelperCommand } from './helper-command.js';

/** `backend features` connects to the remote; an unreachable one must not hold the run up for long. */
const DETECT_TIMEOUT_MS = 60_000;
const CACHE_FORMAT = 1;
const MAX_RECORDS = 256;

interface HashRecord {
  /** rclone version that reported them (a newer rclone may know more hash types). */
  rclone: string;
  path2: string;
  hashes: string[];
}

export function remoteHashesCachePath(stateDir: string): string {
  return join(stateDir, 'remote-hashes.json');
}

function isRecord(value: unknown): value is HashRecord {
  const r = value as Partial<HashRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.rclone === 'string' && typeof r.path2 === 'string' && Array.isArray(r.hashes) && r.hashes.every((h) => typeof h === 'string');
}

function readRecords(file: string): HashRecord[] {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; records?: unknown };
    return parsed.format === CACHE_FORMAT && Array.isArray(parsed.records) ? parsed.records.filter(isRecord) : [];
  } catch {
    return [];
  }
}

function writeRecord(file: string, record: HashRecord, log: Logger): void {
  try {
    const others = readRecords(file).filter((r) => !(r.rclone === record.rclone && r.path2 === record.path2)).slice(-(MAX_RECORDS - 1));
    mkdirSync(dirname(file), { recursive: true, mode: DIR_MODE });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ format: CACHE_FORMAT, records: [...others, record] }) + '\n', { mode: FILE_MODE });
    renameSync(temp, file);
  } catch (e: unknown) {
    // Only costs one more detection at the next run.
    log.debug('could not keep the remote hash types', { error: errorText(e) });
  }
}

/** A local Path2 is an absolute directory; a remote one is `name:path`. */
function isLocalPath2(job: JobConfig): boolean {
  return job.rcloneRemote === '' || job.rcloneRemote === 'local' || job.path2.startsWith('/');
}

/** Hash types known for this job's Path2 without running anything (status, check-config); undefined when not detected yet. */
export function cachedRemoteHashes(stateDir: string, job: JobConfig, caps: Pick<RcloneCapabilities, 'version'>): RemoteHashes | undefined {
  if (isLocalPath2(job)) return 'all';
  return readRecords(remoteHashesCachePath(stateDir)).find((r) => r.rclone === caps.version && r.path2 === job.path2)?.hashes;
}

export interface HashDetectDeps {
  spawner: Spawner;
  clock: Clock;
  stateDir: string;
}

/**
 * Path2's hash types: from the cache, else by running `rclone backend features PATH2` (with the job's rclone options,
 * which may be needed to connect). undefined when that fails (the remote is unreachable): nothing is cached then.
 */
export async function detectRemoteHashes(
  deps: HashDetectDeps,
  input: { job: JobConfig; global: GlobalSettings; caps: RcloneCapabilities; env: Record<string, string | undefined>; log: Logger; signal?: AbortSignal | undefined },
): Promise<RemoteHashes | undefined> {
  const { job, global, caps, log } = input;
  const cached = cachedRemoteHashes(deps.stateDir, job, caps);
  if (cached !== undefined) return cached;
  // The job's options may be needed to connect; a bisync-only one among them makes `backend` refuse them all.
  const flags = rcloneOnlyFlags(job, global);
  const first = await queryFeatures(deps, global.rcloneBinary, flags, input);
  // Retried bare only when rclone itself said no (an exit code): a timeout or a cancel would not go better.
  const retry = first.hashes === undefined && first.exited && flags.length > 0 && !input.signal?.aborted;
  const hashes = retry ? (await queryFeatures(deps, global.rcloneBinary, [], input)).hashes : first.hashes;
  if (hashes === undefined) {
    log.warn('could not detect the remote\'s hash types (rclone backend features failed); this run compares size and modtime only');
    return undefined;
  }
  log.info('remote hash types detected', { hashes });
  writeRecord(remoteHashesCachePath(deps.stateDir), { rclone: caps.version, path2: job.path2, hashes }, log);
  return hashes;
}

/** `Hashes` of `rclone backend features PATH2 FLAGS…` (undefined when it fails), and whether rclone exited by itself. */
async function queryFeatures(
  deps: HashDetectDeps,
  binary: string,
  flags: readonly string[],
  input: { job: JobConfig; env: Record<string, string | undefined>; signal?: AbortSignal | undefined },
): Promise<{ hashes: string[] | undefined; exited: boolean }> {
  const lines: string[] = [];
  // A short query that changes nothing: stopped outright on timeout or when the run is cancelled.
  const { exit } = await runHelperCommand({
    spawner: deps.spawner,
    binary,
    args: ['backend', 'features', input.job.path2, ...flags],
    env: input.env,
    signal: input.signal,
    stopSignal: 'SIGKILL',
    timeout: { clock: deps.clock, ms: DETECT_TIMEOUT_MS },
    onLine: (line, stream) => {
      if (stream === 'stdout' && lines.length < 10_000) lines.push(line);
    },
  });
  return { hashes: exit.code === 0 ? parseFeatureHashes(lines.join('\n')) : undefined, exited: exit.code !== null };
}

/** Whether the listings in `workdir` carry a hash on every file entry ('none' when there are no listings). */
export function listingHashes(workdir: string): ListingHashes {
  let names: string[];
  try {
    names = readdirSync(workdir).filter((n) => n.endsWith('.path1.lst') || n.endsWith('.path2.lst'));
  } catch {
    return 'none';
  }
  if (names.length === 0) return 'none';
  for (const name of names) {
    try {
      if (!listingHashed(readFileSync(join(workdir, name), 'utf8'))) return 'unhashed';
    } catch {
      return 'unhashed';
    }
  }
  return 'hashed';
}

/** The user put `compare` in an option map that applies to this run: theirs is used as it is. */
export function userSetsCompare(job: JobConfig, global: GlobalSettings, operation: Operation): boolean {
  const merged = mergeOptionMaps(...optionMapsFor({ job, global, operation }));
  return merged.has('compare') && merged.get('compare') !== false;
}

/** Whether this run of the job can compare checksums; detects Path2's hash types only when that is the last question. */
export async function checksumSupportFor(
  deps: HashDetectDeps,
  input: { job: JobConfig; global: GlobalSettings; caps: RcloneCapabilities; operation: Operation; env: Record<string, string | undefined>; log: Logger; signal?: AbortSignal | undefined },
): Promise<ChecksumSupport> {
  const { job, caps } = input;
  const userCompare = userSetsCompare(job, input.global, input.operation);
  const needsHashes = !userCompare && job.checksumCompare && atLeast(caps, COMPARE_MIN_VERSION);
  const hashes = needsHashes ? await detectRemoteHashes(deps, input) : undefined;
  return checksumSupport(job, caps, hashes, userCompare);
}

/** The job's note for status and check-config (rclone/compare.ts checksumNote), from what is known without running rclone. */
export function jobChecksumNote(stateDir: string, job: JobConfig, global: GlobalSettings, caps: RcloneCapabilities): string | undefined {
  const support = checksumSupport(job, caps, cachedRemoteHashes(stateDir, job, caps), userSetsCompare(job, global, 'bisync'));
  return checksumNote(support, caps);
}
