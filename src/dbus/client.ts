// Typed client of the service's D-Bus API (used by rbmctl): low-level dbus-next messages with our own
// timeout, optional NO_AUTO_START, decoded replies, signals, and every failure as an RbmError from the table.

import * as dbus from 'dbus-next';
import { RbmError, codeForErrorName, errorText } from '../errors.js';
import { BUS_NAME, JOB_INTERFACE, MANAGER_INTERFACE, OBJECT_MANAGER_INTERFACE, OBJECT_PATH, PROPERTIES_INTERFACE, jobNameFromPath, jobObjectPath } from './contract.js';
import { toVariantDict, unwrapVariants } from './variants.js';
import { nodeSocketAddress, sessionBusAddress } from './address.js';

const { Message, MessageType, MessageFlag, DBusError } = dbus;

export const START_HINT = 'Start it with: systemctl --user start rclone-bisync-manager (or rbmctl daemon start).';

export interface ClientOptions {
  /** Bus address; default: found in `env` like sd-bus does ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus). */
  busAddress?: string;
  /** Where the default bus address is looked up; default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Give up on a call after this long (busctl and gdbus use 25 s). */
  timeoutMs: number;
  /** false: never let the bus start the service for a call (NO_AUTO_START). Default true. */
  autoStart?: boolean;
}

export interface ProgressView {
  bytes: bigint;
  total_bytes: bigint;
  transfers: number;
  total_transfers: number;
  speed: number;
  eta_sec?: bigint;
}

export interface JobView {
  name: string;
  path: string;
  state: string;
  paused: boolean;
  local: string;
  remote: string;
  schedule: string;
  active: boolean;
  dry_run: boolean;
  last_result: string;
  last_message: string;
  last_error: string;
  last_run_id: bigint;
  last_run_usec: bigint;
  last_finished_usec: bigint;
  next_run_usec: bigint;
  current_run_id: bigint;
  needs_resync: boolean;
  needs_approval: boolean;
  hash_warning: boolean;
  cpu_limit_applied: boolean;
  /** Empty when same-size edits within the modtime precision are detected (or that is not known); absent from older services. */
  checksum_note?: string;
  /** Why a queued run waits for the job's run conditions; empty or absent (older services) when not waiting. */
  waiting?: string;
  /** Which run conditions this machine cannot judge (counted as met); empty or absent when none. */
  conditions_note?: string;
  progress?: ProgressView;
  /** Sync on change (absent from older services): off, starting, watching, failed, root-gone; and why, when not watching. */
  watch?: string;
  watch_message?: string;
  /** Only while a safety abort waits for approval (absent from older services): sizes of the pending list's parts. */
  pending_deletes?: number;
  pending_overwrites?: number;
  /** ok, attention, stale or failing (absent from services older than issue 15: rbmctl then counts the job as ok). */
  health?: string;
  /** Why the health is not ok, naming what to do ('' when ok). */
  health_reason?: string;
  /** Notifications for the job are silenced until then (µs since the epoch, 0 = not snoozed). */
  snoozed_until_usec?: bigint;
}

export interface StatusView {
  state: string;
  version: string;
  config_path: string;
  config_error: string;
  rclone_version: string;
  running_jobs: string[];
  queued_jobs: string[];
  /** Jobs whose health is not ok, in config order (absent from older services). */
  attention_jobs?: string[];
  /** The global snooze ends then (µs since the epoch, 0 = none; absent from older services). */
  snoozed_until_usec?: bigint;
  jobs: JobView[];
}

export interface JobListEntry {
  name: string;
  state: string;
  last_result: string;
  path: string;
}

export interface RunView {
  run_id: bigint;
  job: string;
  result: string;
  operation: string;
  trigger: string;
  dry_run: boolean;
  started_usec: bigint;
  finished_usec: bigint;
  exit_code: number;
  signal: string;
  message: string;
  hint: string;
  error: string;
  files: bigint;
  bytes: bigint;
  deletes: number;
  renames: number;
  errors: number;
  conflicts: string[];
  hash_warnings: number;
  tail?: string[];
}

export interface SyncOptions {
  resync?: boolean;
  force?: boolean;
  dryRun?: boolean;
  /** Wait for the job's run conditions like a scheduled run (`--respect-conditions`). */
  respectConditions?: boolean;
}

export type ManagerSignal =
  | { kind: 'job-started'; job: string; runId: bigint; operation: string }
  | { kind: 'job-progress'; job: string; runId: bigint; progress: ProgressView }
  | { kind: 'job-finished'; job: string; runId: bigint; result: string; details: RunView }
  | { kind: 'config-reloaded'; ok: boolean; error: string }
  | { kind: 'properties-changed'; path: string; job: string | undefined; changed: Record<string, unknown> }
  | { kind: 'job-added'; path: string; job: string }
  | { kind: 'job-removed'; path: string; job: string }
  /** The service left the bus (stopped or crashed). */
  | { kind: 'service-gone' }
  /** Our own connection to the bus broke. */
  | { kind: 'bus-lost' };

export interface RbmClient {
  sync(jobs: readonly string[], options?: SyncOptions): Promise<bigint[]>;
  syncJob(job: string, options?: SyncOptions): Promise<bigint>;
  status(): Promise<StatusView>;
  listJobs(): Promise<JobListEntry[]>;
  reload(): Promise<void>;
  /** Empty definition: pick up a job already in the config file. Returns the job's object path. */
  addJob(name: string, definition?: Readonly<Record<string, unknown>>): Promise<string>;
  removeJob(name: string): Promise<void>;
  pause(jobs: readonly string[]): Promise<void>;
  resume(jobs: readonly string[]): Promise<void>;
  cancel(jobs: readonly string[]): Promise<void>;
  history(job: string, limit: number): Promise<RunView[]>;
  pendingDeletes(job: string): Promise<string[]>;
  /** A page of the pending list and the token of the whole list (limit 0: the service's default page). */
  pendingApproval(job: string, offset: number, limit: number): Promise<{ token: string; total: number; deletes: string[] }>;
  /** A page of the same list's overwrites (direction Path1 = local or Path2, full path) and the token of the whole list. */
  pendingOverwrites?(job: string, offset: number, limit: number): Promise<{ token: string; total: number; overwrites: { to: 'Path1' | 'Path2'; path: string }[] }>;
  /** Approve the list the token identifies; returns the queued run's id. */
  approve(job: string, token: string): Promise<bigint>;
  /** Silence notifications of these jobs (empty: every job) for `seconds` (1 to 30 days). */
  snooze(jobs: readonly string[], seconds: number): Promise<void>;
  /** End the snooze of these jobs (empty: the global one and every job's). */
  unsnooze(jobs: readonly string[]): Promise<void>;
  getProperty(name: string, job?: string): Promise<unknown>;
  /** Subscribe to the service's signals (match rules are in place when this resolves). */
  subscribe(listener: (signal: ManagerSignal) => void): Promise<() => void>;
  close(): void;
}

const SERVICE_GONE_NAMES = new Set([
  'org.freedesktop.DBus.Error.ServiceUnknown',
  'org.freedesktop.DBus.Error.NameHasNoOwner',
  'org.freedesktop.DBus.Error.NoReply',
  'org.freedesktop.DBus.Error.Disconnected',
]);

/** A reply error → RbmError by name (the table), service-absent names → ServiceUnavailable. */
export function errorFromDbus(e: unknown): RbmError {
  if (e instanceof RbmError) return e;
  if (e instanceof DBusError) {
    const code = codeForErrorName(e.type);
    if (code) return new RbmError(code, e.text, { cause: e });
    if (SERVICE_GONE_NAMES.has(e.type) || e.type.startsWith('org.freedesktop.DBus.Error.Spawn.')) {
      return new RbmError('ServiceUnavailable', 'the rclone-bisync-manager service is not running', { hint: START_HINT, cause: e });
    }
    if (e.type === 'org.freedesktop.DBus.Error.UnknownMethod' || e.type === 'org.freedesktop.DBus.Error.UnknownObject') {
      return new RbmError('Internal', `the service does not know this call (${e.type}: ${e.text})`, { hint: 'rbmctl and the running service may be different versions: restart the service.', cause: e });
    }
    return new RbmError('Internal', `${e.type}: ${e.text}`, { cause: e });
  }
  return new RbmError('ServiceUnavailable', `cannot talk to the session bus: ${errorText(e)}`, {
    hint: 'Is a D-Bus session running? Log in to a session, or set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR (whose bus socket rbmctl then uses).',
    cause: e,
  });
}

function toRunOptions(options: SyncOptions): Record<string, dbus.Variant> {
  const out: Record<string, dbus.Variant> = {};
  if (options.resync) out.resync = new dbus.Variant('b', true);
  if (options.force) out.force = new dbus.Variant('b', true);
  if (options.dryRun) out.dry_run = new dbus.Variant('b', true);
  if (options.respectConditions === true) out.respect_conditions = new dbus.Variant('b', true);
  return out;
}

function jobNameOf(path: string): string {
  return jobNameFromPath(path) ?? path;
}

export async function connectClient(options: ClientOptions): Promise<RbmClient> {
  let bus: dbus.MessageBus;
  try {
    const address = options.busAddress ?? sessionBusAddress(options.env ?? process.env);
    if (!address) throw new Error('neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set');
    bus = dbus.sessionBus({ busAddress: nodeSocketAddress(address) });
  } catch (e: unknown) {
    throw errorFromDbus(e);
  }
  let broken: RbmError | undefined;
  const brokenListeners = new Set<(e: RbmError) => void>();
  const breakWith = (e: unknown): void => {
    broken ??= errorFromDbus(e);
    for (const l of brokenListeners) l(broken);
  };
  bus.on('error', breakWith);
  const connection = (bus as unknown as { _connection: NodeJS.EventEmitter })._connection;
  connection.on('end', () => breakWith(new Error('the bus closed the connection')));

  const flags = options.autoStart === false ? MessageFlag.NO_AUTO_START : 0;

  function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onBroken: ((e: RbmError) => void) | undefined;
    const limits = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new RbmError('Retryable', `no reply to ${what} within ${Math.round(options.timeoutMs / 1000)} s`, { hint: 'The service is busy or stuck; try again, or raise --timeout.' }));
      }, options.timeoutMs);
      if (broken) reject(broken);
      onBroken = (e) => reject(e);
      brokenListeners.add(onBroken);
    });
    return Promise.race([promise, limits]).finally(() => {
      clearTimeout(timer);
      if (onBroken) brokenListeners.delete(onBroken);
    });
  }

  async function call(path: string, iface: string, member: string, signature = '', body: unknown[] = [], destination = BUS_NAME): Promise<unknown[]> {
    try {
      const msg = new Message({ destination, path, interface: iface, member, signature, body, flags: destination === BUS_NAME ? flags : 0 });
      const reply = await withTimeout(bus.call(msg), member);
      return (reply?.body ?? []) as unknown[];
    } catch (e: unknown) {
      throw errorFromDbus(e);
    }
  }

  try {
    await withTimeout(new Promise<void>((resolve) => bus.once('connect', () => resolve())), 'the connection to the session bus');
  } catch (e: unknown) {
    bus.disconnect();
    throw errorFromDbus(e);
  }

  const manager = (member: string, signature = '', body: unknown[] = []): Promise<unknown[]> => call(OBJECT_PATH, MANAGER_INTERFACE, member, signature, body);
  const busDaemon = (member: string, signature: string, body: unknown[]): Promise<unknown[]> =>
    call('/org/freedesktop/DBus', 'org.freedesktop.DBus', member, signature, body, 'org.freedesktop.DBus');

  const client: RbmClient = {
    async sync(jobs, syncOptions = {}) {
      const [ids] = await manager('Sync', 'asa{sv}', [[...jobs], toRunOptions(syncOptions)]);
      return ids as bigint[];
    },
    async syncJob(job, syncOptions = {}) {
      const [id] = await call(jobObjectPath(job), JOB_INTERFACE, 'Sync', 'a{sv}', [toRunOptions(syncOptions)]);
      return id as bigint;
    },
    async status() {
      const [dict] = await manager('Status');
      return unwrapVariants(dict) as StatusView;
    },
    async listJobs() {
      const [list] = await manager('ListJobs');
      return (list as [string, string, string, string][]).map(([name, state, last_result, path]) => ({ name, state, last_result, path }));
    },
    async reload() {
      await manager('Reload');
    },
    async addJob(name, definition = {}) {
      const [path] = await manager('AddJob', 'sa{sv}', [name, toVariantDict(definition)]);
      return path as string;
    },
    async removeJob(name) {
      await manager('RemoveJob', 's', [name]);
    },
    async pause(jobs) {
      await manager('Pause', 'as', [[...jobs]]);
    },
    async resume(jobs) {
      await manager('Resume', 'as', [[...jobs]]);
    },
    async cancel(jobs) {
      await manager('Cancel', 'as', [[...jobs]]);
    },
    async history(job, limit) {
      const [records] = await manager('History', 'su', [job, limit]);
      return unwrapVariants(records) as RunView[];
    },
    async pendingDeletes(job) {
      const [paths] = await manager('PendingDeletes', 's', [job]);
      return paths as string[];
    },
    async pendingApproval(job, offset, limit) {
      const [token, total, deletes] = await manager('PendingApproval', 'suu', [job, offset, limit]);
      return { token: token as string, total: total as number, deletes: deletes as string[] };
    },
    async pendingOverwrites(job, offset, limit) {
      const [token, total, entries] = await manager('PendingOverwrites', 'suu', [job, offset, limit]);
      const overwrites = (entries as [string, string][]).map(([to, path]) => ({ to: to === 'Path1' ? ('Path1' as const) : ('Path2' as const), path }));
      return { token: token as string, total: total as number, overwrites };
    },
    async approve(job, token) {
      const [runId] = await manager('Approve', 'ss', [job, token]);
      return runId as bigint;
    },
    async snooze(jobs, seconds) {
      await manager('Snooze', 'ast', [[...jobs], BigInt(seconds)]);
    },
    async unsnooze(jobs) {
      await manager('Unsnooze', 'as', [[...jobs]]);
    },
    async getProperty(name, job) {
      const [value] = await call(job === undefined ? OBJECT_PATH : jobObjectPath(job), PROPERTIES_INTERFACE, 'Get', 'ss', [job === undefined ? MANAGER_INTERFACE : JOB_INTERFACE, name]);
      return unwrapVariants(value);
    },
    async subscribe(listener) {
      const rules = [
        `type='signal',sender='${BUS_NAME}',path_namespace='${OBJECT_PATH}'`,
        `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`,
      ];
      const deliver = (signal: ManagerSignal): void => {
        try {
          listener(signal);
        } catch {
          // a listener's bug must not break the connection
        }
      };
      const onMessage = (msg: dbus.Message): void => {
        if (msg.type !== MessageType.SIGNAL) return;
        const body = msg.body as unknown[];
        if (msg.interface === 'org.freedesktop.DBus' && msg.member === 'NameOwnerChanged') {
          if (body[0] === BUS_NAME && body[2] === '') deliver({ kind: 'service-gone' });
          return;
        }
        if (!msg.path.startsWith(OBJECT_PATH)) return;
        if (msg.interface === MANAGER_INTERFACE) {
          const [, name, runId] = body as [string, string, bigint];
          if (msg.member === 'JobStarted') deliver({ kind: 'job-started', job: name, runId, operation: body[3] as string });
          else if (msg.member === 'JobProgress') deliver({ kind: 'job-progress', job: name, runId, progress: unwrapVariants(body[3]) as ProgressView });
          else if (msg.member === 'JobFinished') deliver({ kind: 'job-finished', job: name, runId, result: body[3] as string, details: unwrapVariants(body[4]) as RunView });
          else if (msg.member === 'ConfigReloaded') deliver({ kind: 'config-reloaded', ok: body[0] as boolean, error: body[1] as string });
        } else if (msg.interface === PROPERTIES_INTERFACE && msg.member === 'PropertiesChanged') {
          const changed = unwrapVariants(body[1]) as Record<string, unknown>;
          const job = msg.path === OBJECT_PATH ? undefined : (changed.Name as string | undefined) ?? jobNameOf(msg.path);
          deliver({ kind: 'properties-changed', path: msg.path, job, changed });
        } else if (msg.interface === OBJECT_MANAGER_INTERFACE) {
          const path = body[0] as string;
          const props = (unwrapVariants(body[1]) as Record<string, Record<string, unknown>> | undefined)?.[JOB_INTERFACE];
          const job = typeof props?.Name === 'string' ? props.Name : jobNameOf(path);
          if (msg.member === 'InterfacesAdded') deliver({ kind: 'job-added', path, job });
          else if (msg.member === 'InterfacesRemoved') deliver({ kind: 'job-removed', path, job: jobNameOf(path) });
        }
      };
      const onBroken = (): void => deliver({ kind: 'bus-lost' });
      bus.on('message', onMessage);
      brokenListeners.add(onBroken);
      for (const rule of rules) await busDaemon('AddMatch', 's', [rule]);
      return () => {
        bus.off('message', onMessage);
        brokenListeners.delete(onBroken);
      };
    },
    close() {
      try {
        bus.disconnect();
      } catch {
        // already closed
      }
    },
  };
  return client;
}
