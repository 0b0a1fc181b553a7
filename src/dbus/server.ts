// The D-Bus adapter of the service: exports ControlApi as the Manager object, one Job object per job and an
// ObjectManager, turns service events into signals and PropertiesChanged, and every failure into a named error.
// This file only wires the parts: bus-connection, call-guard, job-objects, object-manager, manager-object,
// message-guard, signals, progress-throttle.

import { RbmError, errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import type { ControlApi, ServiceStatus, Unsubscribe } from '../api/control-api.js';
import { BUS_NAME, OBJECT_PATH, jobObjectPath } from './contract.js';
import { openBusConnection } from './bus-connection.js';
import { createCallGuard } from './call-guard.js';
import { createJobObjects } from './job-objects.js';
import { createManagerObject } from './manager-object.js';
import { installMessageGuard } from './message-guard.js';
import { ObjectManagerInterface } from './object-manager.js';
import { createProgressThrottle } from './progress-throttle.js';
import { forwardEvents } from './signals.js';
import { progressToDict } from './variants.js';

// The argument parsers live in api/requests.ts; these names stay for the adapter's callers and tests.
export { parseJobName as readJobName, parseJobNames as readJobNames } from '../api/requests.js';

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

function unsubscribeAll(subscriptions: Unsubscribe[]): void {
  for (const unsubscribe of subscriptions.splice(0)) {
    try {
      unsubscribe();
    } catch {
      // the service is shutting down anyway
    }
  }
}

export async function startDbusServer(api: ControlApi, options: DbusServerOptions): Promise<DbusServer> {
  const logger = options.logger.child({ component: 'dbus' });
  const connection = openBusConnection(options.busAddress, logger);
  const guard = createCallGuard(logger);

  function serviceStatus(): ServiceStatus | undefined {
    try {
      return api.status();
    } catch (e: unknown) {
      logger.error('status() failed', { error: errorText(e), stack: e instanceof Error ? e.stack : undefined });
      return undefined;
    }
  }

  const progress = createProgressThrottle((job, runId, p) => {
    connection.safely('JobProgress', () => manager.iface.JobProgress(jobObjectPath(job), job, BigInt(runId), progressToDict(p)));
  });
  const objectManager = new ObjectManagerInterface(guard, () => jobs.managedObjects());
  const jobs = createJobObjects(api, connection, objectManager, guard, logger, (name) => progress.drop(name));

  /** Make the exported job objects match the service's job list. */
  function reconcile(status: ServiceStatus | undefined = serviceStatus()): void {
    if (!status) return;
    const names = new Set(status.jobs.map((j) => j.name));
    for (const name of jobs.names()) if (!names.has(name)) jobs.remove(name);
    for (const job of status.jobs) jobs.update(job);
    manager.update(status);
  }

  const manager = createManagerObject(api, connection, guard, logger, jobs, () => reconcile());
  installMessageGuard(connection.bus, jobs, logger);
  const subscriptions = forwardEvents(api, { connection, manager, jobs, progress, reconcile: () => reconcile() });

  try {
    connection.bus.export(OBJECT_PATH, manager.iface);
    connection.bus.export(OBJECT_PATH, objectManager);
    const initial = serviceStatus();
    if (initial) {
      manager.setInitial(initial);
      for (const job of initial.jobs) jobs.add(job, false);
    }
    await connection.requestName();
  } catch (e: unknown) {
    unsubscribeAll(subscriptions);
    progress.clear();
    connection.abort();
    if (e instanceof RbmError) throw e;
    throw new RbmError('ServiceUnavailable', `cannot publish ${BUS_NAME} on the session bus: ${errorText(e)}`, { cause: e });
  }
  logger.info('D-Bus API published', { name: BUS_NAME, path: OBJECT_PATH });

  let closed = false;
  return {
    onDisconnect(listener: () => void): void {
      connection.onDisconnect(listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      unsubscribeAll(subscriptions);
      progress.clear();
      await connection.close();
    },
  };
}
