// The service's events as D-Bus signals and PropertiesChanged: JobStarted/JobProgress (throttled)/JobFinished and
// ConfigReloaded on the manager; job objects follow jobAdded/jobChanged/jobRemoved.

import { printable } from '../errors.js';
import type { ControlApi, Unsubscribe } from '../api/control-api.js';
import { jobObjectPath } from './contract.js';
import type { BusConnection } from './bus-connection.js';
import type { JobObjects } from './job-objects.js';
import type { ManagerObject } from './manager-object.js';
import type { ProgressThrottle } from './progress-throttle.js';
import { runRecordToDict } from './variants.js';

/** What the event handlers update. */
export interface SignalTargets {
  connection: BusConnection;
  manager: ManagerObject;
  jobs: JobObjects;
  progress: ProgressThrottle;
  reconcile(): void;
}

/** Subscribes to the service's events; returns the unsubscribers. */
export function forwardEvents(api: ControlApi, to: SignalTargets): Unsubscribe[] {
  const { connection, manager, jobs, progress } = to;
  return [
    api.on('jobStarted', (job, runId, operation) => {
      connection.safely('JobStarted', () => manager.iface.JobStarted(jobObjectPath(job), job, BigInt(runId), operation));
      jobs.refresh(job);
    }),
    api.on('jobProgress', (job, runId, p) => {
      progress.push(job, runId, p);
    }),
    api.on('jobFinished', (record) => {
      progress.drop(record.job);
      connection.safely('JobFinished', () =>
        manager.iface.JobFinished(jobObjectPath(record.job), record.job, BigInt(record.runId), record.outcome, runRecordToDict(record, { includeTail: false })),
      );
      jobs.refresh(record.job);
    }),
    api.on('jobChanged', (status) => {
      jobs.update(status);
    }),
    api.on('jobAdded', (status) => {
      jobs.add(status);
    }),
    api.on('jobRemoved', (name) => {
      jobs.remove(name);
    }),
    // Job objects follow jobAdded/jobChanged/jobRemoved; a service-level change only touches the manager's properties.
    api.on('serviceChanged', (summary) => {
      manager.update(summary);
    }),
    api.on('configReloaded', (ok, error) => {
      connection.safely('ConfigReloaded', () => manager.iface.ConfigReloaded(ok, printable(error)));
      to.reconcile();
    }),
  ];
}
