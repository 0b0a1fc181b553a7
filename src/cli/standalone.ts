// rbmctl without the service (sync --standalone, and sync/status/history/approve when no service runs): the service
// is built in this process without a bus (service/wiring.ts) and this client answers the same calls with the same
// values as the D-Bus client, so waiting, formatting, exit codes and --json are the D-Bus path's. The only file of
// src/cli that may import service/ (eslint.config.js); main.ts loads it lazily.
import { RbmError } from '../errors.js';
import { RBMCTL_RUN_ARGUMENTS, parseApprovalToken, parseJobName, parseSyncRequest } from '../api/requests.js';
import type { ControlApi } from '../api/control-api.js';
import { historyPage } from '../api/history-page.js';
import { START_HINT, type ManagerSignal, type ProgressView, type RbmClient, type RunView, type StatusView } from '../dbus/client.js';
import { progressToDict, runRecordToDict, serviceStatusToDict, unwrapVariants } from '../dbus/variants.js';
import { startStandaloneService } from '../service/wiring.js';
import type { StandaloneMode, StandaloneRequest, StandaloneSession } from './context.js';


/** What a look at the state directory reports as the service's state. */
export const NOT_RUNNING_STATE = 'not running';

/** The run options the D-Bus client sends (only those set), as the service reads them. */
/** A synchronous ControlApi answer as the promise an RbmClient returns (a throw becomes a rejection). */
function answer<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e: unknown) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function serviceOnly(what: string): RbmError {
  return new RbmError('ServiceUnavailable', `${what} needs the running service`, { hint: START_HINT });
}

/**
 * In `read` mode nothing runs (the scheduler is not started): the view says the service is not running and
 * no job has a next run, since none will happen until it starts.
 */
function statusView(api: ControlApi, mode: StandaloneMode): StatusView {
  // Encoded as the D-Bus adapter encodes it, then decoded as its client decodes it: the same keys and types.
  const view = unwrapVariants(serviceStatusToDict(api.status())) as StatusView;
  if (mode === 'act') return view;
  return { ...view, state: NOT_RUNNING_STATE, jobs: view.jobs.map((job) => ({ ...job, next_run_usec: 0n })) };
}

/** An RbmClient over a ControlApi in this process (the service built by startStandaloneService, or a test's). */
export function createInProcessClient(api: ControlApi, mode: StandaloneMode): RbmClient {
  const acting = (what: string): void => {
    if (mode === 'read') throw new RbmError('Internal', `${what} on a read-only standalone client`);
  };
  const runView = (record: Parameters<typeof runRecordToDict>[0], includeTail: boolean): RunView => unwrapVariants(runRecordToDict(record, { includeTail })) as RunView;
  const client: RbmClient = {
    async sync(jobs, options = {}) {
      acting('sync');
      // The in-process client is an adapter like D-Bus: it parses what it passes on (force needs named jobs).
      const parsed = parseSyncRequest(jobs, options, RBMCTL_RUN_ARGUMENTS);
      return (await api.sync(parsed.jobs, parsed.request)).map(BigInt);
    },
    async syncJob(job, options = {}) {
      const [id] = await client.sync([job], options);
      return id ?? 0n;
    },
    status: () => answer(() => statusView(api, mode)),
    async listJobs() {
      return (await client.status()).jobs.map((job) => ({ name: job.name, state: job.state, last_result: job.last_result, path: job.path }));
    },
    reload: () => Promise.reject(serviceOnly('rbmctl reload')),
    addJob: () => Promise.reject(serviceOnly('rbmctl add-job')),
    removeJob: () => Promise.reject(serviceOnly('rbmctl remove-job')),
    pause: () => Promise.reject(serviceOnly('rbmctl pause')),
    resume: () => Promise.reject(serviceOnly('rbmctl resume')),
    snooze: () => Promise.reject(serviceOnly('rbmctl snooze')),
    unsnooze: () => Promise.reject(serviceOnly('rbmctl unsnooze')),
    async cancel(jobs) {
      acting('cancel');
      await api.cancel(jobs);
    },
    history: (job, limit) =>
      answer(() => {
        const names = api.status().jobs.map((j) => j.name);
        return historyPage(api, names, job, limit).map((record) => runView(record, true));
      }),
    pendingDeletes: (job) => answer(() => api.pendingDeletes(job)),
    pendingApproval: (job, offset, limit) => answer(() => api.pendingApproval(job, offset, limit)),
    pendingOverwrites: (job, offset, limit) => answer(() => api.pendingOverwrites(job, offset, limit)),
    async approve(job, token) {
      acting('approve');
      return BigInt(await api.approve(parseJobName(job, 'job'), parseApprovalToken(token, 'token')));
    },
    getProperty: () => Promise.reject(serviceOnly('reading a D-Bus property')),
    subscribe(listener: (signal: ManagerSignal) => void) {
      const off = [
        api.on('jobStarted', (job, runId, operation) => listener({ kind: 'job-started', job, runId: BigInt(runId), operation })),
        api.on('jobProgress', (job, runId, progress) => listener({ kind: 'job-progress', job, runId: BigInt(runId), progress: unwrapVariants(progressToDict(progress)) as ProgressView })),
        api.on('jobFinished', (record) => listener({ kind: 'job-finished', job: record.job, runId: BigInt(record.runId), result: record.outcome, details: runView(record, false) })),
      ];
      return Promise.resolve(() => off.forEach((unsubscribe) => unsubscribe()));
    },
    close: () => undefined,
  };
  return client;
}

/** Build the service in this process and a client of it. */
export async function openStandalone(request: StandaloneRequest, env: Readonly<Record<string, string | undefined>>): Promise<StandaloneSession> {
  const standalone = await startStandaloneService({ env, mode: request.mode, configPath: request.config, dryRun: request.dryRun, consoleLog: request.consoleLog });
  return { client: createInProcessClient(standalone.service, request.mode), close: () => standalone.close() };
}
