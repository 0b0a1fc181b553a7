// The D-Bus adapter of the service: exports ControlApi as the Manager object, one Job object per job and an
// ObjectManager, turns service events into signals and PropertiesChanged, and every failure into a named error.

import { readFileSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import * as dbus from 'dbus-next';
import { RbmError, errorName, errorText, printable } from '../errors.js';
import type { Logger } from '../ports.js';
import { nodeSocketAddress, sessionBusAddress } from './address.js';
import { introspectionDocument } from './introspection.js';
import type { Progress } from '../run/types.js';
import type { ControlApi, JobStatus, ServiceStatus, ServiceSummary, Unsubscribe } from '../api/control-api.js';
import { historyPage } from '../api/history-page.js';
import {
  BUS_NAME,
  JOB_INTERFACE,
  JOB_METHODS,
  JOB_NAME_PATTERN,
  JOB_PATH_PREFIX,
  JOB_PROPERTIES,
  MANAGER_INTERFACE,
  MANAGER_METHODS,
  MANAGER_PROPERTIES,
  MANAGER_SIGNALS,
  MAX_JOBS_PER_CALL,
  MAX_NAME_LENGTH,
  MAX_PROGRESS_PER_SECOND,
  OBJECT_MANAGER_INTERFACE,
  OBJECT_MANAGER_METHODS,
  OBJECT_MANAGER_SIGNALS,
  OBJECT_PATH,
  PROPERTIES_INTERFACE,
  jobObjectPath,
} from './contract.js';
import {
  jobProperties,
  progressToDict,
  quoteForMessage,
  readJobDefinition,
  readRunRequest,
  runRecordToDict,
  serviceStatusToDict,
  type JobProperties,
  type VariantDict,
} from './variants.js';

const { DBusError, Message, Variant } = dbus;
const Interface = dbus.interface.Interface;
type Message = dbus.Message;

export interface DbusServerOptions {
  /** Bus address; default: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus (as sd-bus finds it). */
  busAddress?: string;
  logger: Logger;
}

export interface DbusServer {
  /** Release the name and disconnect; no disconnect listener is called. */
  close(): Promise<void>;
  /** Called once when the bus connection is lost (the daemon went away); not after close(). */
  onDisconnect(listener: () => void): void;
}

type ManagerProperties = {
  Version: string;
  State: string;
  ConfigPath: string;
  ConfigError: string;
  RunningJobs: string[];
  QueuedJobs: string[];
};

const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
const INTROSPECTABLE_INTERFACE = 'org.freedesktop.DBus.Introspectable';
const MEMBER_TABLE: Record<string, Record<string, { in: string; out: string }>> = {
  [MANAGER_INTERFACE]: MANAGER_METHODS,
  [OBJECT_MANAGER_INTERFACE]: OBJECT_MANAGER_METHODS,
  [JOB_INTERFACE]: JOB_METHODS,
};
const PROPERTY_TABLE: Record<string, Record<string, string>> = {
  [MANAGER_INTERFACE]: MANAGER_PROPERTIES,
  [OBJECT_MANAGER_INTERFACE]: {},
  [JOB_INTERFACE]: JOB_PROPERTIES,
};

function invalid(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}

/** A job name argument: a string in the config's job-name charset. */
export function readJobName(value: unknown, argument: string): string {
  if (typeof value !== 'string') throw invalid(`${argument}: expected a string`);
  if (value.length > MAX_NAME_LENGTH) throw invalid(`${argument}: job name too long (${value.length} characters, at most 64)`);
  if (!JOB_NAME_PATTERN.test(value)) {
    throw invalid(`${argument}: invalid job name ${quoteForMessage(value)}: expected 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`);
  }
  return value;
}

/** A list of job names, bounded in length, duplicates dropped (first occurrence kept). */
export function readJobNames(value: unknown, argument: string): string[] {
  if (!Array.isArray(value)) throw invalid(`${argument}: expected an array of strings`);
  if (value.length > MAX_JOBS_PER_CALL) throw invalid(`${argument}: too many job names (${value.length}, at most ${MAX_JOBS_PER_CALL})`);
  const names = value.map((item, i) => readJobName(item, `${argument}[${i}]`));
  return [...new Set(names)];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function managerProperties(status: ServiceSummary): ManagerProperties {
  return {
    Version: status.version,
    State: status.state,
    ConfigPath: status.configPath,
    ConfigError: printable(status.configError),
    RunningJobs: [...status.runningJobs],
    QueuedJobs: [...status.queuedJobs],
  };
}

function propertyVariants(values: Readonly<Record<string, unknown>>, signatures: Readonly<Record<string, string>>): VariantDict {
  const out: VariantDict = {};
  for (const [name, signature] of Object.entries(signatures)) out[name] = new Variant(signature, values[name]);
  return out;
}

export async function startDbusServer(api: ControlApi, options: DbusServerOptions): Promise<DbusServer> {
  const logger = options.logger.child({ component: 'dbus' });
  let bus: dbus.MessageBus;
  try {
    const address = options.busAddress || sessionBusAddress(process.env);
    if (!address) throw new Error('neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set');
    bus = dbus.sessionBus({ busAddress: nodeSocketAddress(address) });
  } catch (e: unknown) {
    throw new RbmError('ServiceUnavailable', `cannot connect to the session bus: ${errorText(e)}`, {
      hint: 'Run inside a login session, or set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR (dbus-run-session starts a private bus).',
      cause: e,
    });
  }

  let closing = false;
  let disconnected = false;
  const disconnectListeners: (() => void)[] = [];
  const subscriptions: Unsubscribe[] = [];

  const connectFailure = new Promise<never>((_, reject) => {
    bus.once('error', (e: unknown) => {
      reject(new RbmError('ServiceUnavailable', `cannot connect to the session bus: ${errorText(e)}`, { cause: e }));
    });
  });
  connectFailure.catch(() => undefined);
  bus.on('error', (e: unknown) => {
    if (!closing) logger.warn('D-Bus connection error', { error: errorText(e) });
  });

  // dbus-next emits nothing on MessageBus when the daemon goes away (reference §3.1 gotcha 6): watch the stream.
  const fireDisconnect = (): void => {
    if (closing || disconnected) return;
    disconnected = true;
    logger.warn('lost the D-Bus connection');
    for (const listener of disconnectListeners) {
      try {
        listener();
      } catch (e: unknown) {
        logger.error('disconnect listener failed', { error: errorText(e) });
      }
    }
  };
  const connection = (bus as unknown as { _connection: EventEmitter & { stream?: EventEmitter } })._connection;
  connection.on('end', fireDisconnect);
  connection.stream?.on('close', fireDisconnect);

  /** Every error leaves as a named D-Bus error; only unexpected ones are logged, with their stack. */
  function toDBusError(e: unknown, member: string): dbus.DBusError {
    if (e instanceof DBusError) return e;
    if (e instanceof RbmError) return new DBusError(e.dbusName, printable(e.describe()));
    logger.error(`internal error in ${member}`, { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
    return new DBusError(errorName('Internal'), `internal error in ${member}; the service log has the details`);
  }

  async function guard<T>(member: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e: unknown) {
      throw toDBusError(e, member);
    }
  }

  /** Emit a signal or PropertiesChanged without ever throwing into the service (bus may be gone). */
  function safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e: unknown) {
      if (!closing && !disconnected) logger.warn(`could not emit ${what}`, { error: errorText(e) });
    }
  }

  function serviceStatus(): ServiceStatus | undefined {
    try {
      return api.status();
    } catch (e: unknown) {
      logger.error('status() failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
      return undefined;
    }
  }

  // ------------------------------------------------------------ job objects
  interface JobEntry {
    name: string;
    path: string;
    iface: JobInterface;
    sent: JobProperties;
  }
  const jobs = new Map<string, JobEntry>();

  class JobInterface extends Interface {
    constructor(private readonly jobName: string) {
      super(JOB_INTERFACE);
    }
    private current(): JobProperties {
      const entry = jobs.get(this.jobName);
      try {
        return jobProperties(api.jobStatus(this.jobName));
      } catch (e: unknown) {
        if (!(e instanceof RbmError)) logger.error('jobStatus() failed', { job: this.jobName, error: errorText(e) });
        if (entry) return entry.sent;
        throw new DBusError(errorName('NoSuchJob'), `no job named ${quoteForMessage(this.jobName)}`);
      }
    }
    get Name(): string { return this.current().Name; }
    get Local(): string { return this.current().Local; }
    get Remote(): string { return this.current().Remote; }
    get Schedule(): string { return this.current().Schedule; }
    get Active(): boolean { return this.current().Active; }
    get DryRun(): boolean { return this.current().DryRun; }
    get State(): string { return this.current().State; }
    get LastResult(): string { return this.current().LastResult; }
    get LastRunId(): bigint { return this.current().LastRunId; }
    get LastRunUsec(): bigint { return this.current().LastRunUsec; }
    get NextRunUsec(): bigint { return this.current().NextRunUsec; }
    get NeedsResync(): boolean { return this.current().NeedsResync; }
    get NeedsApproval(): boolean { return this.current().NeedsApproval; }
    get HashWarning(): boolean { return this.current().HashWarning; }
    get LastError(): string { return this.current().LastError; }
    get Paused(): boolean { return this.current().Paused; }
    get CpuLimitApplied(): boolean { return this.current().CpuLimitApplied; }

    Sync(options: unknown): Promise<bigint> {
      return guard('Job.Sync', async () => {
        const request = readRunRequest(options, 'options');
        const [id] = await api.sync([this.jobName], request);
        return BigInt(id ?? 0);
      });
    }
  }
  JobInterface.configureMembers({
    properties: Object.fromEntries(Object.entries(JOB_PROPERTIES).map(([name, signature]) => [name, { signature, access: 'read' as const }])),
    methods: { Sync: { inSignature: JOB_METHODS.Sync.in, outSignature: JOB_METHODS.Sync.out } },
  });

  // ------------------------------------------------------------ ObjectManager
  class ObjectManagerInterface extends Interface {
    GetManagedObjects(): Promise<Record<string, Record<string, VariantDict>>> {
      return guard('GetManagedObjects', () => {
        const out: Record<string, Record<string, VariantDict>> = {};
        for (const entry of jobs.values()) out[entry.path] = { [JOB_INTERFACE]: propertyVariants(entry.sent, JOB_PROPERTIES) };
        return out;
      });
    }
    InterfacesAdded(path: string, interfaces: Record<string, VariantDict>): [string, Record<string, VariantDict>] {
      return [path, interfaces];
    }
    InterfacesRemoved(path: string, interfaces: string[]): [string, string[]] {
      return [path, interfaces];
    }
  }
  ObjectManagerInterface.configureMembers({
    methods: { GetManagedObjects: { inSignature: '', outSignature: OBJECT_MANAGER_METHODS.GetManagedObjects.out } },
    signals: {
      InterfacesAdded: { signature: OBJECT_MANAGER_SIGNALS.InterfacesAdded },
      InterfacesRemoved: { signature: OBJECT_MANAGER_SIGNALS.InterfacesRemoved },
    },
  });
  const objectManager = new ObjectManagerInterface(OBJECT_MANAGER_INTERFACE);

  /** Export a job object; `announce` is false for the objects published before the name is owned (nobody watches yet). */
  function addJobObject(status: JobStatus, announce = true): void {
    if (jobs.has(status.name)) return;
    const entry: JobEntry = { name: status.name, path: jobObjectPath(status.name), iface: new JobInterface(status.name), sent: jobProperties(status) };
    jobs.set(status.name, entry);
    bus.export(entry.path, entry.iface);
    if (announce) safely('InterfacesAdded', () => objectManager.InterfacesAdded(entry.path, { [JOB_INTERFACE]: propertyVariants(entry.sent, JOB_PROPERTIES) }));
  }

  function removeJobObject(name: string): void {
    const entry = jobs.get(name);
    if (!entry) return;
    jobs.delete(name);
    progress.drop(name);
    bus.unexport(entry.path, entry.iface);
    safely('InterfacesRemoved', () => objectManager.InterfacesRemoved(entry.path, [JOB_INTERFACE]));
  }

  function updateJobObject(status: JobStatus): void {
    const entry = jobs.get(status.name);
    if (!entry) {
      addJobObject(status);
      return;
    }
    const next = jobProperties(status);
    const changed: Record<string, unknown> = {};
    for (const key of Object.keys(JOB_PROPERTIES) as (keyof JobProperties)[]) {
      if (!sameValue(entry.sent[key], next[key])) changed[key] = next[key];
    }
    entry.sent = next;
    if (Object.keys(changed).length > 0) safely('PropertiesChanged', () => Interface.emitPropertiesChanged(entry.iface, changed, []));
  }

  /** Make the exported job objects match the service's job list. */
  function reconcile(status: ServiceStatus | undefined = serviceStatus()): void {
    if (!status) return;
    const names = new Set(status.jobs.map((j) => j.name));
    for (const name of [...jobs.keys()]) if (!names.has(name)) removeJobObject(name);
    for (const job of status.jobs) updateJobObject(job);
    updateManagerProperties(status);
  }

  function refreshJob(name: string): void {
    try {
      updateJobObject(api.jobStatus(name));
    } catch (e: unknown) {
      if (!(e instanceof RbmError)) logger.error('jobStatus() failed', { job: name, error: errorText(e) });
    }
  }

  // ------------------------------------------------------------ progress throttle
  const progress = (() => {
    const minGapMs = 1000 / MAX_PROGRESS_PER_SECOND;
    const perJob = new Map<string, { last: number; pending?: { runId: number; progress: Progress } | undefined; timer?: NodeJS.Timeout | undefined }>();
    const send = (job: string, runId: number, p: Progress): void => {
      safely('JobProgress', () => manager.JobProgress(jobObjectPath(job), job, BigInt(runId), progressToDict(p)));
    };
    return {
      push(job: string, runId: number, p: Progress): void {
        const slot = perJob.get(job) ?? { last: 0 };
        perJob.set(job, slot);
        const now = Date.now();
        if (now - slot.last >= minGapMs && !slot.timer) {
          slot.last = now;
          send(job, runId, p);
          return;
        }
        slot.pending = { runId, progress: p };
        slot.timer ??= setTimeout(() => {
          slot.timer = undefined;
          const pending = slot.pending;
          slot.pending = undefined;
          if (pending && perJob.get(job) === slot) {
            slot.last = Date.now();
            send(job, pending.runId, pending.progress);
          }
        }, Math.max(0, minGapMs - (now - slot.last)));
      },
      drop(job: string): void {
        const slot = perJob.get(job);
        if (slot?.timer) clearTimeout(slot.timer);
        perJob.delete(job);
      },
      clear(): void {
        for (const job of [...perJob.keys()]) this.drop(job);
      },
    };
  })();

  // ------------------------------------------------------------ manager object
  let managerSent: ManagerProperties | undefined;

  function updateManagerProperties(status: ServiceSummary): void {
    const next = managerProperties(status);
    const previous = managerSent;
    managerSent = next;
    if (!previous) return;
    const changed: Record<string, unknown> = {};
    for (const key of Object.keys(MANAGER_PROPERTIES) as (keyof ManagerProperties)[]) {
      if (!sameValue(previous[key], next[key])) changed[key] = next[key];
    }
    if (Object.keys(changed).length > 0) safely('PropertiesChanged', () => Interface.emitPropertiesChanged(manager, changed, []));
  }

  /** The manager's properties, from the service's summary (cheap: no per-job work whatever the number of jobs). */
  function currentManager(): ManagerProperties {
    try {
      return managerProperties(api.summary());
    } catch (e: unknown) {
      logger.error('summary() failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
    }
    if (managerSent) return managerSent;
    throw new DBusError(errorName('Internal'), 'the service status is not available; the service log has the details');
  }

  /** Pause/Resume/Cancel: an empty list means every job (the ones published on the bus). */
  function jobsOrAll(value: unknown, argument: string): string[] {
    const names = readJobNames(value, argument);
    return names.length > 0 ? names : [...jobs.keys()];
  }

  class ManagerInterface extends Interface {
    get Version(): string { return currentManager().Version; }
    get State(): string { return currentManager().State; }
    get ConfigPath(): string { return currentManager().ConfigPath; }
    get ConfigError(): string { return currentManager().ConfigError; }
    get RunningJobs(): string[] { return currentManager().RunningJobs; }
    get QueuedJobs(): string[] { return currentManager().QueuedJobs; }

    Sync(jobNames: unknown, options: unknown): Promise<bigint[]> {
      return guard('Sync', async () => {
        const names = readJobNames(jobNames, 'jobs');
        const request = readRunRequest(options, 'options');
        const ids = await api.sync(names, request);
        return ids.map((id) => BigInt(id));
      });
    }
    Status(): Promise<VariantDict> {
      return guard('Status', () => {
        const status = api.status();
        return serviceStatusToDict(status);
      });
    }
    ListJobs(): Promise<[string, string, string, string][]> {
      return guard('ListJobs', () =>
        api.status().jobs.map((j): [string, string, string, string] => [j.name, j.activity, j.state.lastOutcome, jobObjectPath(j.name)]),
      );
    }
    Reload(): Promise<void> {
      // The configReloaded event has already reconciled the job objects.
      return guard('Reload', () => api.reload());
    }
    AddJob(name: unknown, definition: unknown): Promise<string> {
      return guard('AddJob', async () => {
        const jobName = readJobName(name, 'name');
        const def = readJobDefinition(definition, 'definition');
        await api.addJob(jobName, def);
        refreshJob(jobName);
        return jobObjectPath(jobName);
      });
    }
    RemoveJob(name: unknown): Promise<void> {
      return guard('RemoveJob', async () => {
        const jobName = readJobName(name, 'name');
        await api.removeJob(jobName);
        reconcile();
      });
    }
    Pause(jobNames: unknown): Promise<void> {
      return guard('Pause', () => {
        api.pause(jobsOrAll(jobNames, 'jobs'));
      });
    }
    Resume(jobNames: unknown): Promise<void> {
      return guard('Resume', () => {
        api.resume(jobsOrAll(jobNames, 'jobs'));
      });
    }
    Cancel(jobNames: unknown): Promise<void> {
      return guard('Cancel', async () => {
        await api.cancel(jobsOrAll(jobNames, 'jobs'));
      });
    }
    History(job: unknown, limit: unknown): Promise<VariantDict[]> {
      return guard('History', () => {
        if (typeof limit !== 'number') throw invalid('limit: expected an unsigned integer');
        const records = historyPage(api, [...jobs.keys()], job === '' ? '' : readJobName(job, 'job'), limit);
        return records.map((r) => runRecordToDict(r, { includeTail: true }));
      });
    }
    PendingDeletes(job: unknown): Promise<string[]> {
      return guard('PendingDeletes', () => [...api.pendingDeletes(readJobName(job, 'job'))]);
    }
    PendingApproval(job: unknown, offset: unknown, limit: unknown): Promise<[string, number, string[]]> {
      return guard('PendingApproval', () => {
        if (typeof offset !== 'number') throw invalid('offset: expected an unsigned integer');
        if (typeof limit !== 'number') throw invalid('limit: expected an unsigned integer');
        const page = api.pendingApproval(readJobName(job, 'job'), offset, limit);
        return [page.token, page.total, [...page.deletes]];
      });
    }
    Approve(job: unknown, token: unknown): Promise<bigint> {
      return guard('Approve', async () => {
        const jobName = readJobName(job, 'job');
        if (typeof token !== 'string') throw invalid('token: expected a string');
        return BigInt(await api.approve(jobName, token));
      });
    }

    JobStarted(path: string, name: string, runId: bigint, operation: string): [string, string, bigint, string] {
      return [path, name, runId, operation];
    }
    JobProgress(path: string, name: string, runId: bigint, p: VariantDict): [string, string, bigint, VariantDict] {
      return [path, name, runId, p];
    }
    JobFinished(path: string, name: string, runId: bigint, result: string, details: VariantDict): [string, string, bigint, string, VariantDict] {
      return [path, name, runId, result, details];
    }
    ConfigReloaded(ok: boolean, error: string): [boolean, string] {
      return [ok, error];
    }
  }
  ManagerInterface.configureMembers({
    properties: Object.fromEntries(Object.entries(MANAGER_PROPERTIES).map(([name, signature]) => [name, { signature, access: 'read' as const }])),
    methods: Object.fromEntries(Object.entries(MANAGER_METHODS).map(([name, s]) => [name, { inSignature: s.in, outSignature: s.out }])),
    signals: Object.fromEntries(Object.entries(MANAGER_SIGNALS).map(([name, signature]) => [name, { signature }])),
  });
  const manager = new ManagerInterface(MANAGER_INTERFACE);

  // ------------------------------------------------------------ calls dbus-next would get wrong
  function isOurPath(path: string): boolean {
    return path === OBJECT_PATH || (path.startsWith(`${JOB_PATH_PREFIX}/`) && [...jobs.values()].some((j) => j.path === path));
  }

  function interfacesAt(path: string): string[] {
    return path === OBJECT_PATH ? [MANAGER_INTERFACE, OBJECT_MANAGER_INTERFACE] : [JOB_INTERFACE];
  }

  /** Child nodes listed in an object's Introspect reply: the manager has the `job` node while any job exists. */
  function childNodesAt(path: string): string[] {
    return path === OBJECT_PATH && jobs.size > 0 ? [JOB_PATH_PREFIX.slice(OBJECT_PATH.length + 1)] : [];
  }

  function reply(msg: Message, name: string, text: string): true {
    // dbus-next's typings declare newError(msg: string, …); it takes the call message.
    bus.send(Message.newError(msg as unknown as string, name, text));
    return true;
  }

  function intercept(msg: Message): boolean {
    if (msg.type !== dbus.MessageType.METHOD_CALL) return false;
    const path = msg.path;
    const iface = msg.interface;
    const signature = msg.signature || '';
    if (iface === 'org.freedesktop.DBus.Peer' && msg.member === 'GetMachineId') {
      // dbus-next reads /var/lib/dbus/machine-id without a catch; answer ourselves.
      let id = '';
      for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
        try {
          id = readFileSync(file, 'utf8').trim();
          if (id) break;
        } catch {
          // try the next location
        }
      }
      if (!id) return reply(msg, 'org.freedesktop.DBus.Error.FileNotFound', 'no machine id on this system');
      bus.send(Message.newMethodReturn(msg, 's', [id]));
      return true;
    }
    if (msg.member === 'Introspect' && signature === '' && (iface === INTROSPECTABLE_INTERFACE || !iface) && path !== undefined && isOurPath(path)) {
      // dbus-next's reply has no argument names, annotations or docs: answer with the contract of dbus/*.xml.
      bus.send(Message.newMethodReturn(msg, 's', [introspectionDocument(interfacesAt(path), childNodesAt(path))]));
      return true;
    }
    if (iface === INTROSPECTABLE_INTERFACE || iface === 'org.freedesktop.DBus.Peer') return false;
    if (path === undefined) return false;
    if (!isOurPath(path)) {
      if (path.startsWith(`${JOB_PATH_PREFIX}/`)) return reply(msg, 'org.freedesktop.DBus.Error.UnknownObject', `no job object at ${path}`);
      return false;
    }
    const here = interfacesAt(path);
    if (iface === PROPERTIES_INTERFACE) {
      const expected = msg.member === 'Get' ? 'ss' : msg.member === 'GetAll' ? 's' : msg.member === 'Set' ? 'ssv' : undefined;
      if (expected === undefined) return false;
      if (signature !== expected) return reply(msg, INVALID_ARGS, `${msg.member} expects arguments of type '${expected}', got '${signature}'`);
      const [ifaceName, property] = msg.body as [string, string?];
      if (!here.includes(ifaceName)) {
        if (ifaceName.startsWith('org.freedesktop.DBus.') || (msg.member === 'GetAll' && ifaceName === '')) return false;
        return reply(msg, 'org.freedesktop.DBus.Error.UnknownInterface', `no interface ${quoteForMessage(ifaceName)} at ${path}`);
      }
      const known = property !== undefined && Object.prototype.hasOwnProperty.call(PROPERTY_TABLE[ifaceName] ?? {}, property);
      if (msg.member === 'Get' && !known) return reply(msg, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${quoteForMessage(property ?? '')} on ${ifaceName}`);
      if (msg.member === 'Set') {
        // Every property is read-only; dbus-next would also run the setter after refusing (gotcha 1).
        if (!known) return reply(msg, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${quoteForMessage(property ?? '')} on ${ifaceName}`);
        return reply(msg, 'org.freedesktop.DBus.Error.PropertyReadOnly', `property ${property} is read-only`);
      }
      return false;
    }
    let target: string | undefined = iface;
    if (target === undefined || target === '') {
      // The interface header is optional in a method call: find the member among this object's interfaces.
      target = here.find((name) => Object.prototype.hasOwnProperty.call(MEMBER_TABLE[name] ?? {}, msg.member));
      if (target === undefined) return false;
      msg.interface = target;
    }
    if (!here.includes(target)) return false;
    const table = MEMBER_TABLE[target] ?? {};
    if (!Object.prototype.hasOwnProperty.call(table, msg.member)) return false;
    const member = table[msg.member];
    if (member === undefined) return false;
    if (member.in !== signature) return reply(msg, INVALID_ARGS, `${msg.member} expects arguments of type '${member.in}', got '${signature}'`);
    return false;
  }

  bus.addMethodHandler((msg: Message): boolean => {
    try {
      return intercept(msg);
    } catch (e: unknown) {
      logger.error('D-Bus message pre-check failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
      return false;
    }
  });

  // ------------------------------------------------------------ events → signals
  subscriptions.push(
    api.on('jobStarted', (job, runId, operation) => {
      safely('JobStarted', () => manager.JobStarted(jobObjectPath(job), job, BigInt(runId), operation));
      refreshJob(job);
    }),
    api.on('jobProgress', (job, runId, p) => {
      progress.push(job, runId, p);
    }),
    api.on('jobFinished', (record) => {
      progress.drop(record.job);
      safely('JobFinished', () =>
        manager.JobFinished(jobObjectPath(record.job), record.job, BigInt(record.runId), record.outcome, runRecordToDict(record, { includeTail: false })),
      );
      refreshJob(record.job);
    }),
    api.on('jobChanged', (status) => {
      updateJobObject(status);
    }),
    api.on('jobAdded', (status) => {
      addJobObject(status);
    }),
    api.on('jobRemoved', (name) => {
      removeJobObject(name);
    }),
    // Job objects follow jobAdded/jobChanged/jobRemoved; a service-level change only touches the manager's properties.
    api.on('serviceChanged', (summary) => {
      updateManagerProperties(summary);
    }),
    api.on('configReloaded', (ok, error) => {
      safely('ConfigReloaded', () => manager.ConfigReloaded(ok, printable(error)));
      reconcile();
    }),
  );

  const unsubscribeAll = (): void => {
    for (const unsubscribe of subscriptions.splice(0)) {
      try {
        unsubscribe();
      } catch {
        // the service is shutting down anyway
      }
    }
  };

  try {
    bus.export(OBJECT_PATH, manager);
    bus.export(OBJECT_PATH, objectManager);
    const initial = serviceStatus();
    if (initial) {
      managerSent = managerProperties(initial);
      for (const job of initial.jobs) addJobObject(job, false);
    }
    const replyCode = await Promise.race([bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE), connectFailure]);
    if (replyCode !== dbus.RequestNameReply.PRIMARY_OWNER && replyCode !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new RbmError('AlreadyRunning', `another process already owns ${BUS_NAME} on this bus`, {
        hint: 'Another rclone-bisync-manager is running: stop it first (systemctl --user stop rclone-bisync-manager).',
      });
    }
  } catch (e: unknown) {
    closing = true;
    unsubscribeAll();
    progress.clear();
    try {
      bus.disconnect();
    } catch {
      // already gone
    }
    if (e instanceof RbmError) throw e;
    throw new RbmError('ServiceUnavailable', `cannot publish ${BUS_NAME} on the session bus: ${errorText(e)}`, { cause: e });
  }
  logger.info('D-Bus API published', { name: BUS_NAME, path: OBJECT_PATH });

  return {
    onDisconnect(listener: () => void): void {
      disconnectListeners.push(listener);
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      unsubscribeAll();
      progress.clear();
      if (!disconnected) {
        const released = bus.releaseName(BUS_NAME).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([released, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
        if (timer) clearTimeout(timer);
      }
      try {
        bus.disconnect();
      } catch {
        // already gone
      }
    },
  };
}
