// The Manager object: ControlApi's methods as D-Bus methods (arguments parsed by api/requests.ts), the service's
// summary as properties (PropertiesChanged with what differs), and the signals the server emits.

import * as dbus from 'dbus-next';
import { RbmError, errorName, errorText, printable } from '../errors.js';
import type { Logger } from '../ports.js';
import type { ControlApi, ServiceSummary } from '../api/control-api.js';
import { DBUS_RUN_ARGUMENTS, parseApprovalToken, parseJobName, parseJobNames, parseSnoozeRequest, parseSyncRequest } from '../api/requests.js';
import { MANAGER_INTERFACE, MANAGER_METHODS, MANAGER_PROPERTIES, MANAGER_SIGNALS, jobObjectPath } from './contract.js';
import { historyPage } from '../api/history-page.js';
import type { BusConnection } from './bus-connection.js';
import type { CallGuard } from './call-guard.js';
import type { JobObjects } from './job-objects.js';
import { changedProperties, readOnlyProperties } from './properties.js';
import { msToUsec, readJobDefinition, readRunOptions, runRecordToDict, serviceStatusToDict, type VariantDict } from './variants.js';

const { DBusError } = dbus;
const Interface = dbus.interface.Interface;

type ManagerProperties = {
  Version: string;
  State: string;
  ConfigPath: string;
  ConfigError: string;
  RunningJobs: string[];
  QueuedJobs: string[];
  AttentionJobs: string[];
  SnoozedUntilUsec: bigint;
};

function managerProperties(status: ServiceSummary): ManagerProperties {
  return {
    Version: status.version,
    State: status.state,
    ConfigPath: status.configPath,
    ConfigError: printable(status.configError),
    RunningJobs: [...status.runningJobs],
    QueuedJobs: [...status.queuedJobs],
    AttentionJobs: [...status.attentionJobs],
    SnoozedUntilUsec: msToUsec(status.snoozedUntilMs),
  };
}

function invalid(message: string): RbmError {
  return new RbmError('InvalidArgs', message);
}

/** What the Manager object needs from the rest of the server. */
interface ManagerDeps {
  api: ControlApi;
  guard: CallGuard;
  jobs: JobObjects;
  /** Make the job objects match the service's job list. */
  reconcile(): void;
  /** The manager's properties now (the last values sent when the service cannot answer). */
  current(): ManagerProperties;
}

export class ManagerInterface extends Interface {
  constructor(private readonly deps: ManagerDeps) {
    super(MANAGER_INTERFACE);
  }

  get Version(): string { return this.deps.current().Version; }
  get State(): string { return this.deps.current().State; }
  get ConfigPath(): string { return this.deps.current().ConfigPath; }
  get ConfigError(): string { return this.deps.current().ConfigError; }
  get RunningJobs(): string[] { return this.deps.current().RunningJobs; }
  get QueuedJobs(): string[] { return this.deps.current().QueuedJobs; }
  get AttentionJobs(): string[] { return this.deps.current().AttentionJobs; }
  get SnoozedUntilUsec(): bigint { return this.deps.current().SnoozedUntilUsec; }

  /** Pause/Resume/Cancel: an empty list means every job (the ones published on the bus). */
  private jobsOrAll(value: unknown, argument: string): string[] {
    const names = parseJobNames(value, argument);
    return names.length > 0 ? names : this.deps.jobs.names();
  }

  Sync(jobNames: unknown, options: unknown): Promise<bigint[]> {
    return this.deps.guard('Sync', async () => {
      // The names are read before the options, so a call wrong in both is told about its names.
      const names = parseJobNames(jobNames, DBUS_RUN_ARGUMENTS.jobs);
      const { jobs, request } = parseSyncRequest(names, readRunOptions(options, 'options'), DBUS_RUN_ARGUMENTS);
      const ids = await this.deps.api.sync(jobs, request);
      return ids.map((id) => BigInt(id));
    });
  }
  Status(): Promise<VariantDict> {
    return this.deps.guard('Status', () => serviceStatusToDict(this.deps.api.status()));
  }
  ListJobs(): Promise<[string, string, string, string][]> {
    return this.deps.guard('ListJobs', () =>
      this.deps.api.status().jobs.map((j): [string, string, string, string] => [j.name, j.activity, j.state.lastOutcome, jobObjectPath(j.name)]),
    );
  }
  Reload(): Promise<void> {
    // The configReloaded event has already reconciled the job objects.
    return this.deps.guard('Reload', () => this.deps.api.reload());
  }
  AddJob(name: unknown, definition: unknown): Promise<string> {
    return this.deps.guard('AddJob', async () => {
      const jobName = parseJobName(name, 'name');
      const def = readJobDefinition(definition, 'definition');
      await this.deps.api.addJob(jobName, def);
      this.deps.jobs.refresh(jobName);
      return jobObjectPath(jobName);
    });
  }
  RemoveJob(name: unknown): Promise<void> {
    return this.deps.guard('RemoveJob', async () => {
      const jobName = parseJobName(name, 'name');
      await this.deps.api.removeJob(jobName);
      this.deps.reconcile();
    });
  }
  Pause(jobNames: unknown): Promise<void> {
    return this.deps.guard('Pause', () => {
      this.deps.api.pause(this.jobsOrAll(jobNames, 'jobs'));
    });
  }
  Resume(jobNames: unknown): Promise<void> {
    return this.deps.guard('Resume', () => {
      this.deps.api.resume(this.jobsOrAll(jobNames, 'jobs'));
    });
  }
  Cancel(jobNames: unknown): Promise<void> {
    return this.deps.guard('Cancel', async () => {
      await this.deps.api.cancel(this.jobsOrAll(jobNames, 'jobs'));
    });
  }
  History(job: unknown, limit: unknown): Promise<VariantDict[]> {
    return this.deps.guard('History', () => {
      if (typeof limit !== 'number') throw invalid('limit: expected an unsigned integer');
      const records = historyPage(this.deps.api, this.deps.jobs.names(), job === '' ? '' : parseJobName(job, 'job'), limit);
      return records.map((r) => runRecordToDict(r, { includeTail: true }));
    });
  }
  PendingDeletes(job: unknown): Promise<string[]> {
    return this.deps.guard('PendingDeletes', () => [...this.deps.api.pendingDeletes(parseJobName(job, 'job'))]);
  }
  PendingApproval(job: unknown, offset: unknown, limit: unknown): Promise<[string, number, string[]]> {
    return this.deps.guard('PendingApproval', () => {
      if (typeof offset !== 'number') throw invalid('offset: expected an unsigned integer');
      if (typeof limit !== 'number') throw invalid('limit: expected an unsigned integer');
      const page = this.deps.api.pendingApproval(parseJobName(job, 'job'), offset, limit);
      return [page.token, page.total, [...page.deletes]];
    });
  }
  PendingOverwrites(job: unknown, offset: unknown, limit: unknown): Promise<[string, number, [string, string][]]> {
    return this.deps.guard('PendingOverwrites', () => {
      if (typeof offset !== 'number') throw invalid('offset: expected an unsigned integer');
      if (typeof limit !== 'number') throw invalid('limit: expected an unsigned integer');
      const page = this.deps.api.pendingOverwrites(parseJobName(job, 'job'), offset, limit);
      return [page.token, page.total, page.overwrites.map((o): [string, string] => [o.to, o.path])];
    });
  }
  Approve(job: unknown, token: unknown): Promise<bigint> {
    return this.deps.guard('Approve', async () => {
      const jobName = parseJobName(job, 'job');
      return BigInt(await this.deps.api.approve(jobName, parseApprovalToken(token, 'token')));
    });
  }

  Snooze(jobNames: unknown, seconds: unknown): Promise<void> {
    return this.deps.guard('Snooze', () => {
      // An empty list is the global snooze (every job, new ones too), not the jobs published now.
      const request = parseSnoozeRequest(jobNames, seconds, { jobs: 'jobs', seconds: 'seconds' });
      this.deps.api.snooze(request.jobs, request.seconds);
    });
  }
  Unsnooze(jobNames: unknown): Promise<void> {
    return this.deps.guard('Unsnooze', () => {
      this.deps.api.unsnooze(parseJobNames(jobNames, 'jobs'));
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
  properties: readOnlyProperties(MANAGER_PROPERTIES),
  methods: Object.fromEntries(Object.entries(MANAGER_METHODS).map(([name, s]) => [name, { inSignature: s.in, outSignature: s.out }])),
  signals: Object.fromEntries(Object.entries(MANAGER_SIGNALS).map(([name, signature]) => [name, { signature }])),
});

export interface ManagerObject {
  readonly iface: ManagerInterface;
  /** The summary the manager starts from (no PropertiesChanged: nobody watches yet). */
  setInitial(summary: ServiceSummary): void;
  /** New summary: PropertiesChanged with what differs from the last values sent. */
  update(summary: ServiceSummary): void;
}

export function createManagerObject(
  api: ControlApi,
  connection: BusConnection,
  guard: CallGuard,
  logger: Logger,
  jobs: JobObjects,
  reconcile: () => void,
): ManagerObject {
  let sent: ManagerProperties | undefined;

  /** The manager's properties, from the service's summary (cheap: no per-job work whatever the number of jobs). */
  function current(): ManagerProperties {
    try {
      return managerProperties(api.summary());
    } catch (e: unknown) {
      logger.error('summary() failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
    }
    if (sent) return sent;
    throw new DBusError(errorName('Internal'), 'the service status is not available; the service log has the details');
  }

  const iface = new ManagerInterface({ api, guard, jobs, reconcile, current });
  return {
    iface,
    setInitial(summary) {
      sent = managerProperties(summary);
    },
    update(summary) {
      const next = managerProperties(summary);
      const previous = sent;
      sent = next;
      if (!previous) return;
      const changed = changedProperties(previous, next, MANAGER_PROPERTIES);
      if (Object.keys(changed).length > 0) connection.safely('PropertiesChanged', () => Interface.emitPropertiesChanged(iface, changed, []));
    },
  };
}
