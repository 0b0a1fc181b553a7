// One Job object per job at /…/job/<escaped name>: its properties read from the service (the last values sent when
// the service cannot answer), Sync on the job, and export/unexport with InterfacesAdded/Removed as jobs come and go.

import * as dbus from 'dbus-next';
import { RbmError, errorName, errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import type { ControlApi, JobStatus } from '../api/control-api.js';
import { quoteForMessage } from '../api/requests.js';
import { JOB_INTERFACE, JOB_METHODS, JOB_PROPERTIES, jobObjectPath } from './contract.js';
import type { BusConnection } from './bus-connection.js';
import type { CallGuard } from './call-guard.js';
import type { ManagedObjects, ObjectManagerInterface } from './object-manager.js';
import { changedProperties, propertyVariants, readOnlyProperties } from './properties.js';
import { jobProperties, readRunRequest, type JobProperties } from './variants.js';

const { DBusError } = dbus;
const Interface = dbus.interface.Interface;

interface JobEntry {
  path: string;
  iface: JobInterface;
  sent: JobProperties;
}

/** What a Job object needs from the rest of the server. */
interface JobObjectDeps {
  api: ControlApi;
  guard: CallGuard;
  logger: Logger;
  /** The values last sent for this job, if it is exported. */
  lastSent(name: string): JobProperties | undefined;
}

class JobInterface extends Interface {
  constructor(
    private readonly jobName: string,
    private readonly deps: JobObjectDeps,
  ) {
    super(JOB_INTERFACE);
  }
  private current(): JobProperties {
    const sent = this.deps.lastSent(this.jobName);
    try {
      return jobProperties(this.deps.api.jobStatus(this.jobName));
    } catch (e: unknown) {
      if (!(e instanceof RbmError)) this.deps.logger.error('jobStatus() failed', { job: this.jobName, error: errorText(e) });
      if (sent) return sent;
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
  get Health(): string { return this.current().Health; }
  get HealthReason(): string { return this.current().HealthReason; }
  get SnoozedUntilUsec(): bigint { return this.current().SnoozedUntilUsec; }
  get Watch(): string { return this.current().Watch; }
  get Waiting(): string { return this.current().Waiting; }

  Sync(options: unknown): Promise<bigint> {
    return this.deps.guard('Job.Sync', async () => {
      const request = readRunRequest(options, 'options');
      const [id] = await this.deps.api.sync([this.jobName], request);
      return BigInt(id ?? 0);
    });
  }
}
JobInterface.configureMembers({
  properties: readOnlyProperties(JOB_PROPERTIES),
  methods: { Sync: { inSignature: JOB_METHODS.Sync.in, outSignature: JOB_METHODS.Sync.out } },
});

export interface JobObjects {
  /** Names of the exported jobs, in export order. */
  names(): string[];
  count(): number;
  /** Whether a job object is exported at `path`. */
  hasPath(path: string): boolean;
  managedObjects(): ManagedObjects;
  /** Export a job object; `announce` is false for the objects published before the name is owned (nobody watches yet). */
  add(status: JobStatus, announce?: boolean): void;
  remove(name: string): void;
  /** New values for an exported job (PropertiesChanged with what differs), or export it. */
  update(status: JobStatus): void;
  /** Re-read one job from the service and update its object. */
  refresh(name: string): void;
}

export function createJobObjects(
  api: ControlApi,
  connection: BusConnection,
  objectManager: ObjectManagerInterface,
  guard: CallGuard,
  logger: Logger,
  onRemoved: (name: string) => void,
): JobObjects {
  const jobs = new Map<string, JobEntry>();
  const deps: JobObjectDeps = { api, guard, logger, lastSent: (name) => jobs.get(name)?.sent };

  const objects: JobObjects = {
    names: () => [...jobs.keys()],
    count: () => jobs.size,
    hasPath: (path) => [...jobs.values()].some((j) => j.path === path),
    managedObjects() {
      const out: ManagedObjects = {};
      for (const entry of jobs.values()) out[entry.path] = { [JOB_INTERFACE]: propertyVariants(entry.sent, JOB_PROPERTIES) };
      return out;
    },
    add(status, announce = true) {
      if (jobs.has(status.name)) return;
      const entry: JobEntry = { path: jobObjectPath(status.name), iface: new JobInterface(status.name, deps), sent: jobProperties(status) };
      jobs.set(status.name, entry);
      connection.bus.export(entry.path, entry.iface);
      if (announce) connection.safely('InterfacesAdded', () => objectManager.InterfacesAdded(entry.path, { [JOB_INTERFACE]: propertyVariants(entry.sent, JOB_PROPERTIES) }));
    },
    remove(name) {
      const entry = jobs.get(name);
      if (!entry) return;
      jobs.delete(name);
      onRemoved(name);
      connection.bus.unexport(entry.path, entry.iface);
      connection.safely('InterfacesRemoved', () => objectManager.InterfacesRemoved(entry.path, [JOB_INTERFACE]));
    },
    update(status) {
      const entry = jobs.get(status.name);
      if (!entry) {
        objects.add(status);
        return;
      }
      const next = jobProperties(status);
      const changed = changedProperties(entry.sent, next, JOB_PROPERTIES);
      entry.sent = next;
      if (Object.keys(changed).length > 0) connection.safely('PropertiesChanged', () => Interface.emitPropertiesChanged(entry.iface, changed, []));
    },
    refresh(name) {
      try {
        objects.update(api.jobStatus(name));
      } catch (e: unknown) {
        if (!(e instanceof RbmError)) logger.error('jobStatus() failed', { job: name, error: errorText(e) });
      }
    },
  };
  return objects;
}
