// AddJob and RemoveJob: write the job into (or out of) the config file, then reload it like any other change.
// One edit at a time; the editor validates the whole new file before it replaces the old one.
import { RbmError } from '../errors.js';
import type { Logger } from '../ports.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';
import type { ControlApi } from '../api/control-api.js';
import { invalidArgs } from './arguments.js';
import type { SerialQueue } from './serial-queue.js';

/** Writes job definitions into the config file. Both methods validate first and write nothing on failure. */
export interface ConfigEditor {
  /** Add a sync_jobs entry (keeping the user's comments and layout), atomically. Throws ConfigError / RbmError(InvalidArgs, JobExists). */
  addJob(configPath: string, name: string, definition: Readonly<Record<string, unknown>>): Promise<void>;
  /** Remove a sync_jobs entry, atomically. Throws RbmError(NoSuchJob) when the file has no such job. */
  removeJob(configPath: string, name: string): Promise<void>;
}

export interface JobEditsDeps {
  configPath: string;
  logger: Logger;
  editor: ConfigEditor;
  scheduler: Scheduler;
  /** Serialises the edits. */
  edits: SerialQueue;
  /** An explicit reload (verify then commit); throws when the file does not load. */
  reload: () => Promise<void>;
  knownJob: (name: string) => JobScheduleInfo;
  /** Throws ServiceUnavailable once shutdown started. */
  ensureNotStopping: () => void;
}

export type JobEdits = Pick<ControlApi, 'addJob' | 'removeJob'>;

export function createJobEdits({ configPath, logger, editor, scheduler, edits, reload, knownJob, ensureNotStopping }: JobEditsDeps): JobEdits {
  return {
    addJob(nameArg, definition) {
      return edits(async () => {
        const name = nameArg;
        if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) throw invalidArgs('definition: expected a map of job settings');
        ensureNotStopping();
        if (Object.keys(definition).length === 0) {
          await reload();
          const info = knownJob(name);
          if (!info.config.active) return;
          scheduler.trigger(name, { trigger: 'add-job' });
          return;
        }
        const existing = scheduler.info(name);
        if (existing && !existing.removed) throw new RbmError('JobExists', `a job named '${name}' already exists`, { hint: `Pick another name, or remove it first: rbmctl remove-job ${name}` });
        await editor.addJob(configPath, name, definition);
        logger.info('job added to the config file', { job: name, path: configPath });
        await reload();
        const info = knownJob(name);
        if (info.config.active && !info.paused) scheduler.trigger(name, { trigger: 'add-job' });
      });
    },

    removeJob(nameArg) {
      return edits(async () => {
        const name = nameArg;
        ensureNotStopping();
        knownJob(name);
        await editor.removeJob(configPath, name);
        logger.info('job removed from the config file', { job: name, path: configPath });
        await reload();
      });
    },
  };
}
