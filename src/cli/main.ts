// rbmctl: the command line over the service's D-Bus API (yargs). main() parses, runs one command and returns
// its exit code; it is the only place that turns errors into messages and codes (src/errors.ts table).
// Start-up matters (rbmctl status should cost little more than Node itself): the D-Bus client, the config layer,
// the engine, winston and child_process are imported only by the commands that use them, and `status`/`jobs` in
// their plain forms are dispatched without yargs at all (fastReadCommand).

import { ERROR_TABLE, EXIT_JOBS_NEED_ATTENTION, RbmError, codeForErrorName, errorText, exitCodeFor } from '../errors.js';
import { VERSION } from '../version.js';
import type { CliDeps, CliIo, Ctx, GlobalArgs, ServiceLocation, StandaloneFallback } from './context.js';
import type { RbmClient } from '../dbus/client.js';
import { toJson } from './format.js';
import { parseJobArguments } from './job-arguments.js';
import { jobsCommand, statusBuilder, statusCommand } from './commands/status.js';
import { syncBuilder, syncCommand } from './commands/sync.js';
import { approveBuilder, approveCommand } from './commands/approve.js';
import { addJobBuilder, addJobCommand, addSyncCommand, jobsBuilder, listCommand, reloadCommand, removeJobCommand } from './commands/control.js';
import { historyBuilder, historyCommand } from './commands/history.js';
import { watchCommand } from './commands/watch.js';
import { daemonBuilder, daemonCommand } from './commands/daemon.js';
import { completionBuilder, completionCommand } from './commands/completion.js';
import { snoozeBuilder, snoozeCommand, unsnoozeBuilder, unsnoozeCommand } from './commands/snooze.js';
import type { CompletionShell } from './commands/completion.js';

class UsageError extends Error {}

/** `client` calling `onAnswer` after each reply of the service (subscribing is the bus's answer, not the service's). */
/** The error is a reply of the running service (its cause is a D-Bus error named in our table), not a missing service. */
function isServiceReply(e: unknown): boolean {
  const cause: unknown = e instanceof RbmError ? e.cause : undefined;
  const type: unknown = typeof cause === 'object' && cause !== null ? (cause as { type?: unknown }).type : undefined;
  return typeof type === 'string' && codeForErrorName(type) !== undefined;
}

function noticeAnswers(client: RbmClient, onAnswer: () => void): RbmClient {
  return new Proxy(client, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'subscribe' || key === 'close') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          const reply: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          onAnswer();
          return reply;
        } catch (e: unknown) {
          // An error the service itself replied with (one of our error names, e.g. "shutting down") is an answer too.
          if (isServiceReply(e)) onAnswer();
          throw e;
        }
      };
    },
  });
}

const EXIT_USAGE = exitCodeFor('InvalidArgs');

function exitCodesText(): string {
  const rows = [...Object.entries(ERROR_TABLE).map(([code, [, exit]]) => [exit, code] as const), [EXIT_JOBS_NEED_ATTENTION, 'status: a job needs attention'] as const]
    .sort((a, b) => a[0] - b[0])
    .map(([exit, code]) => `${exit} ${code}`);
  return `Exit codes: 0 ok; ${rows.join(', ')}.`;
}

export async function main(argv: readonly string[], io: CliIo, overrides: Partial<CliDeps> = {}): Promise<number> {
  const deps: CliDeps = {
    connect: async (options) => (await import('../dbus/client.js')).connectClient(options),
    runCommand: async (command, args) => (await import('./run-command.js')).runCommand(command, args),
    now: () => Date.now(),
    probeRclone: async (binary) => (await import('../platform/rclone-probe.js')).probeRclone(binary),
    openStandalone: async (request) => (await import('./standalone.js')).openStandalone(request, io.env),
    ...overrides,
  };
  // Shell completion's hidden helper: before yargs, so it stays out of --help and costs no parsing.
  if (argv[0] === '__complete-jobs') return (await import('./complete-jobs.js')).completeJobs(argv.slice(1), io, deps);
  let exitCode = 0;

  const makeCtx = (a: Record<string, unknown>): Ctx => {
    const args: GlobalArgs = {
      json: a.json === true,
      dryRun: a.dryRun === true,
      consoleLog: a.consoleLog === true,
      config: typeof a.config === 'string' ? a.config : undefined,
      timeout: typeof a.timeout === 'number' ? a.timeout : 25,
      autoStart: a.autoStart !== false,
    };
    if (!(args.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
    return {
      io,
      deps,
      args,
      out: (text) => void io.stdout.write(`${text}\n`),
      err: (text) => void io.stderr.write(`${text}\n`),
      json: (value) => void io.stdout.write(`${toJson(value)}\n`),
      async withClient(fn, use = 'act') {
        const client = await deps.connect({ env: io.env, timeoutMs: args.timeout * 1000, autoStart: use === 'act' && args.autoStart });
        try {
          return await fn(client);
        } finally {
          client.close();
        }
      },
      async withClientOrStandalone<T>(fn: (client: RbmClient, where: ServiceLocation) => Promise<T>, fallback: StandaloneFallback): Promise<T> {
        const standalone = async (): Promise<T> => {
          if (!deps.openStandalone) {
            throw new RbmError('ServiceUnavailable', 'one-shot mode is not available in this build', { hint: 'Start the service: systemctl --user start rclone-bisync-manager' });
          }
          const session = await deps.openStandalone({ mode: fallback.mode, config: args.config, dryRun: args.dryRun, consoleLog: args.consoleLog });
          try {
            return await fn(session.client, 'standalone');
          } finally {
            await session.close();
          }
        };
        if (fallback.standalone === true) return standalone();
        let answered = false;
        try {
          return await this.withClient((client) => fn(noticeAnswers(client, () => (answered = true)), 'service'), fallback.use);
        } catch (e: unknown) {
          // Only a service that never answered is "not running": one that stops mid-way does not run things twice.
          if (!(e instanceof RbmError && e.code === 'ServiceUnavailable') || answered || !deps.openStandalone) throw e;
          if (fallback.note) io.stderr.write(`${fallback.note}\n`);
          return standalone();
        }
      },
    };
  };
  const fast = fastReadCommand(argv);
  if (fast !== undefined) {
    try {
      parseJobArguments({ job: fast.job });
      const ctx = makeCtx({ json: fast.json });
      return fast.command === 'status' ? await statusCommand(ctx, fast.job, { short: fast.short }) : await jobsCommand(ctx);
    } catch (e: unknown) {
      return report(io, e);
    }
  }
  const { default: yargs } = await import('yargs');

  const handle =
    <A>(fn: (ctx: Ctx, a: A) => Promise<number>) =>
    async (a: A): Promise<void> => {
      parseJobArguments(a as Record<string, unknown>);
      exitCode = await fn(makeCtx(a as Record<string, unknown>), a);
    };

  const parser = yargs([...argv])
    .scriptName('rbmctl')
    .usage('rbmctl <command> [options]\n\nControl rclone-bisync-manager over the session D-Bus.')
    .option('json', { type: 'boolean', default: false, describe: 'Print data as JSON (64-bit numbers as strings)' })
    .option('dry-run', { alias: 'd', type: 'boolean', default: false, describe: 'Runs change nothing (rclone --dry-run)' })
    .option('console-log', { type: 'boolean', default: false, describe: 'Log to the console (one-shot mode)' })
    .option('config', { type: 'string', describe: 'Config file (one-shot mode)' })
    .option('timeout', { type: 'number', default: 25, describe: 'Seconds to wait for a reply from the service' })
    .option('auto-start', { type: 'boolean', default: true, describe: 'Let the bus start the service for a command that acts (--no-auto-start: never; status, jobs, history and watch never do)' })
    .command('status [job]', 'Show the service and its jobs with their health (or one job in detail); exits 13 when a job needs attention', statusBuilder, handle((ctx, a: { job: string | undefined; short: boolean }) => statusCommand(ctx, a.job, { short: a.short })))
    .command('jobs', 'List the configured jobs', (y) => y, handle((ctx) => jobsCommand(ctx)))
    .command(
      'sync [jobs..]',
      'Sync now (default: every active job)',
      syncBuilder,
      handle((ctx, a: { jobs: string[]; resync: boolean; forceBisync: boolean; wait: boolean; standalone: boolean; respectConditions: boolean }) =>
        syncCommand(ctx, { jobs: a.jobs, resync: a.resync, forceBisync: a.forceBisync, wait: a.wait, standalone: a.standalone, respectConditions: a.respectConditions }),
      ),
    )
    .command('add-sync <jobs..>', 'Pick up jobs just added to the config file and sync them now', jobsBuilder, handle((ctx, a: { jobs: string[] }) => addSyncCommand(ctx, a.jobs)))
    .command(
      'add-job <name>',
      'Add a job to the config file, schedule it and run its first sync',
      addJobBuilder,
      handle((ctx, a: { name: string; local: string; remote: string; schedule: string; active: boolean; checkAccess: boolean | undefined; autoResync: boolean | undefined; filtersFile: string | undefined; conflictResolve: string | undefined }) =>
        addJobCommand(ctx, { name: a.name, local: a.local, remote: a.remote, schedule: a.schedule, active: a.active, checkAccess: a.checkAccess, autoResync: a.autoResync, filtersFile: a.filtersFile, conflictResolve: a.conflictResolve }),
      ),
    )
    .command('remove-job <name>', 'Remove a job from the config file and the schedule', (y) => y.positional('name', { type: 'string', demandOption: true }), handle((ctx, a: { name: string }) => removeJobCommand(ctx, a.name)))
    .command('pause <jobs..>', 'Stop scheduling jobs (a running sync finishes)', jobsBuilder, handle((ctx, a: { jobs: string[] }) => listCommand(ctx, 'pause', a.jobs)))
    .command('resume <jobs..>', 'Schedule paused jobs again', jobsBuilder, handle((ctx, a: { jobs: string[] }) => listCommand(ctx, 'resume', a.jobs)))
    .command('cancel <jobs..>', 'Stop running or queued syncs safely', jobsBuilder, handle((ctx, a: { jobs: string[] }) => listCommand(ctx, 'cancel', a.jobs)))
    .command('snooze <jobs-then-duration..>', 'Silence notifications for a while: snooze [JOB...] DURATION (no JOB: every job)', snoozeBuilder, handle((ctx, a: { jobsThenDuration: string[] }) => snoozeCommand(ctx, a.jobsThenDuration)))
    .command('unsnooze [jobs..]', 'End a snooze (none named: the global one and every job\'s)', unsnoozeBuilder, handle((ctx, a: { jobs: string[] | undefined }) => unsnoozeCommand(ctx, a.jobs ?? [])))
    .command('history [job]', 'Show past runs, newest first', historyBuilder, handle((ctx, a: { job: string | undefined; limit: number }) => historyCommand(ctx, a.job, a.limit)))
    .command('approve <job>', 'Show what a safety abort would delete and overwrite, ask, then allow exactly that list', approveBuilder, handle((ctx, a: { job: string; yes: boolean; token: string | undefined; all: boolean }) => approveCommand(ctx, { job: a.job, yes: a.yes, token: a.token, all: a.all })))
    .command('reload', 'Re-read the config file (a bad config keeps the old one)', (y) => y, handle((ctx) => reloadCommand(ctx)))
    .command('watch', 'Follow the service: one line per event', (y) => y, handle((ctx) => watchCommand(ctx)))
    .command('check-config', 'Validate the config file offline (--config FILE for another file)', (y) => y, handle(async (ctx) => (await import('./commands/check-config.js')).checkConfigCommand(ctx, deps.probeRclone)))
    .command('daemon <action>', 'Start, stop, check or reload the service (systemctl --user)', daemonBuilder, handle((ctx, a: { action: 'start' | 'stop' | 'status' | 'reload' }) => daemonCommand(ctx, a.action)))
    .strict()
    .demandCommand(1, 'Give a command; rbmctl --help lists them.')
    .command('completion [shell]', 'Print the completion script for bash, zsh or fish (install-user installs them)', completionBuilder, handle((ctx, a: { shell: CompletionShell }) => completionCommand(ctx, a.shell)))
    .help()
    .alias('help', 'h')
    .version(VERSION)
    .epilogue(exitCodesText())
    .wrap(100)
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw error ?? new UsageError(message ?? 'bad usage');
    });

  let output = '';
  try {
    await parser.parseAsync([...argv], {}, (_err: unknown, _argv: unknown, text: string) => {
      output = text;
    });
  } catch (e: unknown) {
    return report(io, e);
  }
  if (output) io.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  return exitCode;
}

/** A read-only command in its plain form, recognised without yargs. */
interface FastReadCommand {
  command: 'status' | 'jobs';
  job: string | undefined;
  json: boolean;
  /** status --short (a status bar calls it every few seconds). */
  short: boolean;
}

/**
 * `status`, `status JOB` and `jobs`, each with or without `--json`, and `status [JOB] --short` (not with --json): the
 * forms scripts, shell prompts and status bars call most. Loading yargs costs more than connecting and calling Status
 * (docs/performance.md), so these skip it; every other argv (any other option, --help, a second word, a JOB starting
 * with "-") goes through yargs, which gives the same result for these forms (test/unit/cli-fast-path.test.ts compares both).
 */
export function fastReadCommand(argv: readonly string[]): FastReadCommand | undefined {
  const count = (flag: string): number => argv.filter((word) => word === flag).length;
  const json = count('--json');
  const short = count('--short');
  if (json > 1 || short > 1) return undefined;
  const words = argv.filter((word) => word !== '--json' && word !== '--short');
  const [command, job, ...rest] = words;
  if (rest.length > 0 || (job !== undefined && job.startsWith('-'))) return undefined;
  if (command === 'status') return { command, job, json: json === 1, short: short === 1 };
  if (command === 'jobs' && job === undefined && short === 0) return { command, job, json: json === 1, short: false };
  return undefined;
}

/** Print an error the way rbmctl always does and return its exit code. */
function report(io: CliIo, e: unknown): number {
  if (e instanceof UsageError || (e instanceof Error && e.name === 'YError')) {
    io.stderr.write(`rbmctl: ${e.message}\nrbmctl --help lists the commands and options.\n`);
    return EXIT_USAGE;
  }
  if (e instanceof RbmError) {
    if (e.code === 'ServiceUnavailable' && e.hint) {
      // One line: what is wrong and how to fix it.
      io.stderr.write(`rbmctl: ${e.message}; ${e.hint.charAt(0).toLowerCase()}${e.hint.slice(1)}\n`);
    } else {
      io.stderr.write(`rbmctl: ${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
    }
    return e.exitCode;
  }
  // A stack trace is for a bug report, not for the user's terminal: only with RBM_DEBUG set.
  const stack = io.env.RBM_DEBUG && e instanceof Error && e.stack ? `${e.stack}\n` : 'This is a bug: run the command again with RBM_DEBUG=1 to see where it happened, and report it.\n';
  io.stderr.write(`rbmctl: internal error: ${errorText(e)}\n${stack}`);
  return exitCodeFor('Internal');
}
