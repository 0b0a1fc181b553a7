// The facts behind the checksum compare (src/rclone/compare.ts): which hash types Path2 has and the modtime precision
// rclone gives each side, detected once per pair with `rclone backend features` and kept in the state dir; whether
// the file systems under the local roots keep fine modtimes (looked at on every run: a few stat calls); and whether
// the listings in a job's workdir carry hashes.

import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GlobalSettings, JobConfig, RcloneCapabilities } from '../config/types.js';
import { mergeOptionMaps } from '../rclone/flags.js';
import { atLeast } from '../rclone/caps.js';
import { optionMapsFor, rcloneOnlyFlags } from '../rclone/args.js';
import {
  checksumNote, checksumSupport, COMPARE_MIN_VERSION, FINE_MODTIME_NS, listingHashed, MODTIME_OPTIONS, modtimesTellEditsApart, parseFeatureHashes, parseFeaturePrecision, rcloneEnvName,
  showsFineTimes, type ChecksumSupport, type ListingHashes, type RemoteHashes,
} from '../rclone/compare.js';
import type { Operation } from './types.js';
import { errorText } from '../errors.js';
import type { Clock, Logger, Spawner } from '../ports.js';
import { DIR_MODE, FILE_MODE } from '../state/paths.js';
import { runHelperCommand } from './helper-command.js';
import { localMountsOf, parseMountInfo } from './rules/side-check.js';
import { readProcMountInfo } from './side-check.js';

/** `backend features` connects to the remote; an unreachable one must not hold the run up for long. */
const DETECT_TIMEOUT_MS = 60_000;
const CACHE_FORMAT = 1;
const MAX_RECORDS = 256;

interface HashRecord {
  /** rclone version that reported them (a newer rclone may know more hash types). */
  rclone: string;
  /** The path asked about: a job's Path2, or a local root for the local side's precision (named so since format 1). */
  path2: string;
  hashes: string[];
  /** `Precision` in ns; absent in records written before it was kept (then asked again once). */
  precisionNs?: number;
}

export function remoteHashesCachePath(stateDir: string): string {
  return join(stateDir, 'remote-hashes.json');
}

function isRecord(value: unknown): value is HashRecord {
  const r = value as Partial<HashRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.rclone === 'string' && typeof r.path2 === 'string' && Array.isArray(r.hashes) && r.hashes.every((h) => typeof h === 'string')
    && (r.precisionNs === undefined || typeof r.precisionNs === 'number');
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
  /** The text of /proc/self/mountinfo (default: read it): the mounts under a local root. */
  readMountInfo?: (() => string) | undefined;
  /** A directory's modtime and change time in ns (default: stat it; tests describe other file systems). */
  statTimes?: ((dir: string) => DirTimes) | undefined;
}

export interface DirTimes {
  mtimeNs: bigint;
  ctimeNs: bigint;
}

function statDirTimes(dir: string): DirTimes {
  const { mtimeNs, ctimeNs } = statSync(dir, { bigint: true });
  return { mtimeNs, ctimeNs };
}

type DetectInput = { job: JobConfig; global: GlobalSettings; caps: RcloneCapabilities; env: Record<string, string | undefined>; log: Logger; signal?: AbortSignal | undefined };

/** What `rclone backend features PATH` says about a path: its hash types and modtime precision (ns). */
interface PathFeatures {
  hashes: string[];
  precisionNs: number | undefined;
}

function cachedRecord(stateDir: string, caps: Pick<RcloneCapabilities, 'version'>, path: string): HashRecord | undefined {
  return readRecords(remoteHashesCachePath(stateDir)).find((r) => r.rclone === caps.version && r.path2 === path);
}

/**
 * The features of `path`: from the cache, else by running `rclone backend features PATH` (with the job's rclone
 * options, which may be needed to connect). undefined when that fails (the remote is unreachable): nothing is cached
 * then. `needPrecision`: a cached record from before precisions were kept is asked again.
 */
async function detectFeatures(deps: HashDetectDeps, input: DetectInput, path: string, needPrecision: boolean): Promise<PathFeatures | undefined> {
  const { job, global, caps } = input;
  const cached = cachedRecord(deps.stateDir, caps, path);
  if (cached !== undefined && (!needPrecision || cached.precisionNs !== undefined)) return { hashes: cached.hashes, precisionNs: cached.precisionNs };
  // The job's options may be needed to connect; a bisync-only one among them makes `backend` refuse them all.
  const flags = rcloneOnlyFlags(job, global);
  const first = await queryFeatures(deps, global.rcloneBinary, path, flags, input);
  // Retried bare only when rclone itself said no (an exit code): a timeout or a cancel would not go better.
  const retry = first.features === undefined && first.exited && flags.length > 0 && !input.signal?.aborted;
  const features = retry ? (await queryFeatures(deps, global.rcloneBinary, path, [], input)).features : first.features;
  if (features === undefined) return undefined;
  const record: HashRecord = { rclone: caps.version, path2: path, hashes: features.hashes };
  if (features.precisionNs !== undefined) record.precisionNs = features.precisionNs;
  writeRecord(remoteHashesCachePath(deps.stateDir), record, input.log);
  return features;
}

/**
 * Path2's hash types: from the cache, else by running `rclone backend features PATH2` (with the job's rclone options,
 * which may be needed to connect). undefined when that fails (the remote is unreachable): nothing is cached then.
 */
export async function detectRemoteHashes(deps: HashDetectDeps, input: DetectInput): Promise<RemoteHashes | undefined> {
  if (isLocalPath2(input.job)) return 'all';
  return (await detectRemoteFeatures(deps, input, false))?.hashes;
}

async function detectRemoteFeatures(deps: HashDetectDeps, input: DetectInput, needPrecision: boolean): Promise<PathFeatures | undefined> {
  const cachedBefore = cachedRecord(deps.stateDir, input.caps, input.job.path2) !== undefined;
  const features = await detectFeatures(deps, input, input.job.path2, needPrecision);
  if (features === undefined) {
    input.log.warn('could not detect the remote\'s hash types (rclone backend features failed); this run compares size and modtime only');
    return undefined;
  }
  if (!cachedBefore) input.log.info('remote hash types detected', { hashes: features.hashes, precisionNs: features.precisionNs });
  return features;
}

/** `rclone backend features PATH FLAGS…` (undefined when it fails), and whether rclone exited by itself. */
async function queryFeatures(
  deps: HashDetectDeps,
  binary: string,
  path: string,
  flags: readonly string[],
  input: { env: Record<string, string | undefined>; signal?: AbortSignal | undefined },
): Promise<{ features: PathFeatures | undefined; exited: boolean }> {
  const lines: string[] = [];
  // A short query that changes nothing: stopped outright on timeout or when the run is cancelled.
  const { exit } = await runHelperCommand({
    spawner: deps.spawner,
    binary,
    args: ['backend', 'features', path, ...flags],
    env: input.env,
    signal: input.signal,
    stopSignal: 'SIGKILL',
    timeout: { clock: deps.clock, ms: DETECT_TIMEOUT_MS },
    onLine: (line, stream) => {
      if (stream === 'stdout' && lines.length < 10_000) lines.push(line);
    },
  });
  const stdout = lines.join('\n');
  const hashes = exit.code === 0 ? parseFeatureHashes(stdout) : undefined;
  return { features: hashes === undefined ? undefined : { hashes, precisionNs: parseFeaturePrecision(stdout) }, exited: exit.code !== null };
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

/** The MODTIME_OPTIONS (rclone/compare.ts) set for this run of the job, in its option maps or rclone's environment. */
export function modtimeOptionsSet(job: JobConfig, global: GlobalSettings, operation: Operation, env: Record<string, string | undefined>): string[] {
  const merged = mergeOptionMaps(...optionMapsFor({ job, global, operation }));
  return MODTIME_OPTIONS.filter((name) => (merged.has(name) && merged.get(name) !== false) || (env[rcloneEnvName(name)] ?? '') !== '');
}

/**
 * Whether every file system under the local roots (each root and the mounts inside it) keeps modtimes finer than a
 * millisecond, seen on the times of their top directories (rclone/compare.ts showsFineTimes). In doubt (a root or
 * the mount table cannot be read): no.
 */
export function localFilesystemsFine(roots: readonly string[], io: Pick<HashDetectDeps, 'readMountInfo' | 'statTimes'> = {}): boolean {
  let mountPoints: string[];
  try {
    mountPoints = parseMountInfo((io.readMountInfo ?? readProcMountInfo)());
  } catch {
    return false;
  }
  const statTimes = io.statTimes ?? statDirTimes;
  return roots.every((root) => [root, ...localMountsOf(root, mountPoints).nested].every((dir) => {
    try {
      const { mtimeNs, ctimeNs } = statTimes(dir);
      return showsFineTimes(mtimeNs, ctimeNs);
    } catch {
      return false;
    }
  }));
}

/** The local roots of a job: Path1, and Path2 when it is a local directory. */
function localRoots(job: JobConfig): string[] {
  return isLocalPath2(job) ? [job.local, job.path2] : [job.local];
}

/**
 * Whether this run of the job compares checksums: not where the modtimes tell every edit apart; else where rclone
 * can and Path2 has a hash type in common. Detects (once, then cached) only what the answer still depends on.
 */
export async function checksumSupportFor(
  deps: HashDetectDeps,
  input: DetectInput & { operation: Operation },
): Promise<ChecksumSupport> {
  const { job, caps } = input;
  const userCompare = userSetsCompare(job, input.global, input.operation);
  const needsFacts = !userCompare && job.checksumCompare && atLeast(caps, COMPARE_MIN_VERSION);
  if (!needsFacts) return checksumSupport(job, caps, undefined, userCompare);
  const localPath2 = isLocalPath2(job);
  const remote = localPath2 ? undefined : await detectRemoteFeatures(deps, input, true);
  if (!localPath2 && remote === undefined) return checksumSupport(job, caps, undefined, userCompare);
  const hashes: RemoteHashes = localPath2 ? 'all' : remote!.hashes;
  const fine = await modtimesFineFor(deps, input, remote?.precisionNs);
  return checksumSupport(job, caps, hashes, userCompare, fine);
}

/** The modtime facts of a job (rclone/compare.ts modtimesTellEditsApart); `remotePrecisionNs` for a remote Path2. */
async function modtimesFineFor(deps: HashDetectDeps, input: DetectInput & { operation: Operation }, remotePrecisionNs: number | undefined): Promise<boolean> {
  const { job, log } = input;
  const modtimeOptions = modtimeOptionsSet(job, input.global, input.operation, input.env);
  const localFine = localFilesystemsFine(localRoots(job), deps);
  // Asked only when it can still change the answer: rclone's precision for local paths (its own temp directory's).
  const local = modtimeOptions.length === 0 && localFine && (isLocalPath2(job) || (remotePrecisionNs !== undefined && remotePrecisionNs <= FINE_MODTIME_NS))
    ? await detectFeatures(deps, input, job.local, true)
    : undefined;
  const facts = { path1PrecisionNs: local?.precisionNs, path2PrecisionNs: isLocalPath2(job) ? local?.precisionNs : remotePrecisionNs, localFilesystemsFine: localFine, modtimeOptions };
  const fine = modtimesTellEditsApart(facts);
  log.debug(fine ? 'both sides keep fine modtimes: no checksum compare needed' : 'modtimes may hide same-size edits', facts);
  return fine;
}

/** The job's note for status and check-config (rclone/compare.ts checksumNote), from what is known without running rclone. */
export function jobChecksumNote(stateDir: string, job: JobConfig, global: GlobalSettings, caps: RcloneCapabilities): string | undefined {
  const support = checksumSupport(job, caps, cachedRemoteHashes(stateDir, job, caps), userSetsCompare(job, global, 'bisync'));
  const note = checksumNote(support, caps);
  // No common hash, but modtimes that tell the edits apart: nothing to report (from the cache only; no rclone here).
  if (note === undefined || support.ok || support.reason !== 'no-common-hash') return note;
  const facts = {
    path1PrecisionNs: cachedRecord(stateDir, caps, job.local)?.precisionNs,
    path2PrecisionNs: cachedRecord(stateDir, caps, job.path2)?.precisionNs,
    localFilesystemsFine: localFilesystemsFine(localRoots(job)),
    modtimeOptions: modtimeOptionsSet(job, global, 'bisync', {}),
  };
  return modtimesTellEditsApart(facts) ? undefined : note;
}
