// rbmctl __complete-jobs [--config FILE] [--from-config]: the job names shell completion offers, one per line.
// Asks the running service without ever starting it (NO_AUTO_START, short timeout); when it is not running, or
// with --from-config (add-sync: jobs just written to the file), reads the config file's sync_jobs keys directly.
// Completion must stay quiet: any failure prints nothing and exits 0.

import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import type { CliDeps, CliIo } from './context.js';
import { defaultConfigPath } from '../config/load.js';
import { MAX_CONFIG_BYTES } from '../config/yaml-source.js';
import { JOB_NAME_PATTERN } from '../config/types.js';

export const COMPLETE_JOBS_COMMAND = '__complete-jobs';

/** A shell waits on this: a service that does not answer within it is treated as not running. */
const SERVICE_TIMEOUT_MS = 2000;

interface CompleteArgs {
  config: string | undefined;
  fromConfig: boolean;
}

function parseArgs(argv: readonly string[]): CompleteArgs {
  const args: CompleteArgs = { config: undefined, fromConfig: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--from-config') args.fromConfig = true;
    else if (arg === '--config') args.config = argv[++i];
    else if (arg.startsWith('--config=')) args.config = arg.slice('--config='.length);
  }
  return args;
}

async function serviceJobs(io: CliIo, deps: CliDeps): Promise<string[] | undefined> {
  const busAddress = io.env.DBUS_SESSION_BUS_ADDRESS;
  try {
    const client = await deps.connect({ ...(busAddress ? { busAddress } : {}), timeoutMs: SERVICE_TIMEOUT_MS, autoStart: false });
    try {
      return (await client.listJobs()).map((job) => job.name);
    } finally {
      client.close();
    }
  } catch {
    return undefined;
  }
}

/** The keys of the file's sync_jobs mapping; the rest of the file need not be valid. */
async function configJobs(file: string): Promise<string[]> {
  try {
    if ((await stat(file)).size > MAX_CONFIG_BYTES) return [];
    const doc: unknown = parse(await readFile(file, 'utf8'));
    if (typeof doc !== 'object' || doc === null) return [];
    const jobs = (doc as Record<string, unknown>).sync_jobs;
    if (typeof jobs !== 'object' || jobs === null || Array.isArray(jobs)) return [];
    return Object.keys(jobs);
  } catch {
    return [];
  }
}

export async function completeJobs(argv: readonly string[], io: CliIo, deps: CliDeps): Promise<number> {
  const args = parseArgs(argv);
  let names = args.fromConfig || args.config !== undefined ? undefined : await serviceJobs(io, deps);
  if (names === undefined) {
    const home = io.env.HOME;
    const file = args.config ?? (home ? defaultConfigPath({ HOME: home, XDG_CONFIG_HOME: io.env.XDG_CONFIG_HOME }) : undefined);
    names = file === undefined ? [] : await configJobs(file);
  }
  // Only names a job can have: nothing a shell would treat specially reaches the completion list.
  const valid = names.filter((name) => JOB_NAME_PATTERN.test(name)).sort();
  if (valid.length > 0) io.stdout.write(`${valid.join('\n')}\n`);
  return 0;
}
