// The one source of the manual pages: rbmctl(1), rclone-bisync-manager(1) and rclone-bisync-manager.yaml(5) are
// written here as data and rendered to roff in man/. The pages are committed; test/unit/man-pages.test.ts fails when
// they are stale, when an rbmctl option is missing from them, and when groff or man warns about any of them.
//   node --import tsx scripts/generate-man.ts           write man/*
//   node --import tsx scripts/generate-man.ts --check   exit 1 when man/ differs from what this writes
//
// Markup in the text: `code` is bold (commands, options, keys, paths), <PLACEHOLDER> is italic. Plain ASCII only.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TABLE, EXIT_JOBS_NEED_ATTENTION } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';

type Block = string | { items: [term: string, text: string][] } | { example: string };
interface Section {
  title: string;
  blocks: Block[];
}
export interface ManPage {
  file: string;
  name: string;
  section: 1 | 5;
  summary: string;
  sections: Section[];
}

const APP = 'rclone-bisync-manager';
const MANUAL = 'rclone-bisync-manager manual';

const EXIT_MEANINGS: Record<ErrorCode, string> = {
  RunFailed: 'a run failed (`sync --wait`)',
  InvalidArgs: 'bad command line or argument',
  NoSuchJob: 'no such job',
  JobExists: '`add-job` with a name that exists',
  AlreadyRunning: 'the job is already queued or running, or the pair is locked by another rclone',
  NeedsResync: 'the job needs `rbmctl sync --resync` <JOB>',
  NeedsApproval: 'a safety abort waits for `rbmctl approve` <JOB>',
  Cancelled: 'the run was cancelled',
  Paused: 'the job is paused (`rbmctl resume` <JOB>)',
  RcloneUnsupported: 'the installed rclone is missing or too old for what is asked',
  CheckFailed: 'a side looks unmounted or emptied: nothing was touched; the job syncs by itself once it is back',
  ApprovalStale: '`approve --token`: the pending list changed since the token was shown',
  ServiceUnavailable: 'the service is not running, or there is no session bus',
  Internal: 'a bug (the service log has details)',
  StateError: 'job state could not be read or written',
  Retryable: 'a transient failure (remote unreachable, no reply in time): try again',
  InvalidConfig: 'the config is invalid (`check-config`, `reload`, `add-job`)',
};

function exitStatusItems(): [string, string][] {
  const rows = (Object.keys(ERROR_TABLE) as ErrorCode[]).map((code) => [ERROR_TABLE[code][1], code] as const).sort((a, b) => a[0] - b[0]);
  return [
    ['`0`', 'success (for `sync --wait`: success, no changes, conflicts kept as both versions, dry run)'],
    ...rows.map(([exit, code]): [string, string] => [`\`${exit}\``, `${code}: ${EXIT_MEANINGS[code]}`]),
    [`\`${EXIT_JOBS_NEED_ATTENTION}\``, '`status` only: a job it shows is not ok (attention, failing or stale; with <JOB>, that job); the output is printed as usual'],
    ['`130`', '`sync --wait` interrupted with Ctrl-C (the runs go on in the service)'],
  ];
}

const FILES: [string, string][] = [
  ['`$XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml`', 'the config file (default `~/.config/rclone-bisync-manager/config.yaml`); see `rclone-bisync-manager.yaml`(5)'],
  ['`$XDG_STATE_HOME/rclone-bisync-manager/`', 'job state, run history, rclone work directories and logs (default `~/.local/state/rclone-bisync-manager/`)'],
];

export const PAGES: ManPage[] = [
  {
    file: 'rbmctl.1',
    name: 'rbmctl',
    section: 1,
    summary: 'control rclone-bisync-manager over the session D-Bus',
    sections: [
      { title: 'SYNOPSIS', blocks: ['`rbmctl` <COMMAND> [<ARGUMENTS>] [<OPTIONS>]'] },
      {
        title: 'DESCRIPTION',
        blocks: [
          '`rbmctl` talks to the `rclone-bisync-manager`(1) user service over the session D-Bus: it shows the jobs and their runs, starts syncs, pauses and resumes jobs, approves the deletes and overwrites that a safety abort held back, and edits the config file. `check-config` and `sync --standalone` work without the service.',
          'When the service is not running, `sync` and `approve` run in this process and `status` and `history` show what the state directory holds (each says so on stderr); every other command says so in one line with the command that starts it and exits 69.',
        ],
      },
      {
        title: 'COMMANDS',
        blocks: [
          {
            items: [
              ['`status` [<JOB>]', 'the service (version, state, config, running and queued runs) and a table of the jobs with their health (ok, attention, failing, stale) and their last and next run, then why each job that is not ok is not, and what to do; with <JOB>, that job in detail. Exits 13 when a job shown is not ok. `--short` prints one line for a status bar'],
              ['`jobs`', 'the configured jobs: active, schedule, local and remote side'],
              ['`sync` [<JOB>...]', 'queue a sync now (no names: every active job) and print the run ids. `--wait` follows the runs and exits with their outcome; `--resync` runs as rclone --resync (needed after a lockout; files that differ keep both versions); `--force-bisync` runs the named jobs with --force once; `--standalone` runs once in this process, without the service; `--respect-conditions` waits for the job\'s run conditions (metered, battery, time window) like a scheduled run (`status` shows why it waits)'],
              ['`add-sync` <JOB>...', 'pick up jobs just added to the config file and sync them now'],
              ['`add-job` <NAME> `--local` <DIR> `--remote` <REMOTE:PATH> `--schedule` <CRON>', 'write a new job into the config file (comments stay), schedule it and run its first sync'],
              ['`remove-job` <JOB>', 'remove a job from the config file and the schedule'],
              ['`pause` <JOB>...', 'stop scheduling the jobs (a running sync finishes)'],
              ['`resume` <JOB>...', 'schedule paused jobs again'],
              ['`cancel` <JOB>...', 'stop running or queued syncs the way that is safe for the installed rclone'],
              ['`snooze` [<JOB>...] <DURATION>', 'silence the desktop notifications and the `on_attention` hook of the jobs (none named: every job, and jobs added later) for <DURATION> (`90m`, `2h`, `1d12h`; 1 second to 30 days); `status` still shows their health'],
              ['`unsnooze` [<JOB>...]', 'end the snooze of the jobs (none named: the global snooze and every job\'s)'],
              ['`history` [<JOB>]', 'past runs, newest first'],
              ['`approve` <JOB>', 'show what a safety abort would delete and, as a second list, which existing files it would overwrite and in which direction, with the token of the whole list; ask, then approve exactly that list and wait for the run. Scripts pass `--yes` only together with `--token` <T> from the list they reviewed'],
              ['`reload`', 're-read the config file; a bad file is reported and the old config stays in force'],
              ['`watch`', 'follow the service, one line per event, until Ctrl-C'],
              ['`check-config`', 'validate the config file offline (no service needed), including its options against the rclone it names'],
              ['`daemon start`|`stop`|`status`|`reload`', 'control the service through `systemctl --user`'],
              ['`completion` [`bash`|`zsh`|`fish`]', 'print the completion script for a shell (the installer puts them where the shells look)'],
            ],
          },
        ],
      },
      {
        title: 'OPTIONS',
        blocks: [
          'These options apply to every command.',
          {
            items: [
              ['`--json`', 'print data as JSON; 64-bit numbers as strings; `watch --json` prints one object per line'],
              ['`-d`, `--dry-run`', 'runs change nothing (rclone --dry-run)'],
              ['`--config` <FILE>', 'the config file for `check-config` and one-shot mode'],
              ['`--console-log`', 'log to the console (one-shot mode)'],
              ['`--timeout` <SECONDS>', 'how long to wait for a reply from the service (default 25)'],
              ['`--auto-start`, `--no-auto-start`', 'let the bus start the service if needed (the default), or never'],
              ['`-h`, `--help`', 'list the commands, or the options of one command'],
              ['`--version`', 'print the version'],
            ],
          },
        ],
      },
      {
        title: 'COMMAND OPTIONS',
        blocks: [
          {
            items: [
              ['`status --short`', 'one line for a status bar: `rbm: 4 ok`, `rbm: 1 attention (docs), 1 stale (photos)`, `rbm: service not running`; not with `--json`'],
              ['`sync --resync`', 'run as rclone --resync'],
              ['`sync --force-bisync`', 'run the named jobs with rclone --force once, without showing the deletes (`approve` shows them first)'],
              ['`sync -w`, `sync --wait`', 'follow the runs with live progress and exit with their outcome'],
              ['`sync --standalone`', 'run once in this process, without the service'],
              ['`add-job --local` <DIR>', 'the local folder (Path1), under `local_base_path`'],
              ['`add-job --remote` <REMOTE:PATH>', 'the other side (Path2)'],
              ['`add-job --schedule` <CRON>', 'a cron expression, for example "*/15 * * * *"'],
              ['`add-job --active`, `--no-active`', 'schedule the job (the default), or keep it configured but idle'],
              ['`add-job --check-access`', 'seed and check RCLONE_TEST files'],
              ['`add-job --auto-resync`', 'resync on its own after a lockout'],
              ['`add-job --filters-file` <FILE>', 'an rclone filters file for this job'],
              ['`add-job --conflict-resolve` <POLICY>', 'none, path1, path2, newer, older, larger or smaller (rclone 1.66 and later)'],
              ['`history -n`, `history --limit` <N>', 'how many runs (default 20, at most 1000)'],
              ['`approve --all`', 'list every pending delete (default: the first 50)'],
              ['`approve --token` <T>', 'the token printed with the list you reviewed; the approval fails if the list changed since'],
              ['`approve -y`, `approve --yes`', 'do not ask (for scripts; needs `--token`)'],
            ],
          },
        ],
      },
      {
        title: 'SHELL COMPLETION',
        blocks: [
          'Completion for bash, zsh and fish completes the commands, their options and job names. Job names come from the running service; when it is not running, from the config file (`--config` on the command line is honoured). Completing never starts the service.',
        ],
      },
      { title: 'EXIT STATUS', blocks: [{ items: exitStatusItems() }] },
      {
        title: 'ENVIRONMENT',
        blocks: [
          {
            items: [
              ['`DBUS_SESSION_BUS_ADDRESS`', 'the session bus to talk to'],
              ['`XDG_CONFIG_HOME`', 'where the default config file is looked for'],
              ['`RBM_DEBUG`', 'print the stack trace of an internal error'],
            ],
          },
        ],
      },
      { title: 'FILES', blocks: [{ items: FILES }] },
      {
        title: 'EXAMPLES',
        blocks: [{ example: 'rbmctl status\nrbmctl status --short\nrbmctl sync photos --wait\nrbmctl approve photos\nrbmctl snooze photos 2h\nrbmctl check-config --config ./config.yaml' }],
      },
      { title: 'SEE ALSO', blocks: ['`rclone-bisync-manager`(1), `rclone-bisync-manager.yaml`(5), `rclone`(1), `systemctl`(1)'] },
    ],
  },
  {
    file: 'rclone-bisync-manager.1',
    name: APP,
    section: 1,
    summary: 'keep folders in two-way sync with rclone bisync, as a user service',
    sections: [
      { title: 'SYNOPSIS', blocks: ['`rclone-bisync-manager` [`--config` <FILE>] [`-d`] [`--console-log`]'] },
      {
        title: 'DESCRIPTION',
        blocks: [
          '`rclone-bisync-manager` runs `rclone bisync` jobs on cron schedules and is controlled over the session D-Bus, normally with `rbmctl`(1). It is a user service: systemd starts it (`systemctl --user enable --now rclone-bisync-manager`), or the bus starts it when a client asks.',
          'A run may delete a file, or overwrite one that differs, only as an ordinary bisync within the safety limits, or when the user saw exactly that change and approved it (`rbmctl approve`). When in doubt it stops, keeps both versions and says so.',
        ],
      },
      {
        title: 'OPTIONS',
        blocks: [
          {
            items: [
              ['`--config` <FILE>', 'the config file (default `$XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml`)'],
              ['`-d`, `--dry-run`', 'run every sync as a dry run (nothing changes)'],
              ['`--console-log`', 'also log to the console'],
              ['`--version`', 'print the version and exit'],
              ['`-h`, `--help`', 'print the help and exit'],
            ],
          },
        ],
      },
      {
        title: 'SIGNALS',
        blocks: [
          {
            items: [
              ['`SIGHUP`', 're-read the config file (as `rbmctl reload`); a bad file keeps the old config'],
              ['`SIGTERM`, `SIGINT`', 'stop gracefully: running syncs may finish within `shutdown_grace`, then they are interrupted the way that is safe for the installed rclone'],
            ],
          },
        ],
      },
      { title: 'FILES', blocks: [{ items: FILES }] },
      { title: 'SEE ALSO', blocks: ['`rbmctl`(1), `rclone-bisync-manager.yaml`(5), `rclone`(1), `systemd.service`(5)'] },
    ],
  },
  {
    file: 'rclone-bisync-manager.yaml.5',
    name: 'rclone-bisync-manager.yaml',
    section: 5,
    summary: 'configuration file of rclone-bisync-manager',
    sections: [
      { title: 'SYNOPSIS', blocks: ['`$XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml`'] },
      {
        title: 'DESCRIPTION',
        blocks: [
          'A YAML file: a few top-level settings and the map `sync_jobs` of jobs by name. A job name has 1 to 64 letters, digits, ".", "_" or "-" and starts with a letter or digit. Two jobs may not share or nest their directories. `rbmctl check-config` validates a file offline; `rbmctl reload` (or SIGHUP) applies it, and a bad file keeps the old config in force.',
        ],
      },
      {
        title: 'TOP-LEVEL KEYS',
        blocks: [
          {
            items: [
              ['`local_base_path` (required)', 'absolute directory, or ~/...; every job\'s `local` is resolved against it and must stay inside it'],
              ['`sync_jobs`', 'the jobs, by name (see JOB KEYS)'],
              ['`exclusion_rules_file`', 'rclone filters file for every job without its own `filters_file`'],
              ['`max_parallel_jobs`', 'how many jobs sync at the same time (1 to 64, default 2)'],
              ['`rclone_binary`', 'a command on PATH or an absolute path (default rclone)'],
              ['`rclone_nice`', 'how far below the service\'s CPU priority rclone runs (0 to 19, default 10)'],
              ['`max_cpu_usage_percent`', 'below 100, rclone runs under cpulimit with this share of one CPU'],
              ['`shutdown_grace`', 'how long a running sync may take to finish when the service stops (seconds or a duration like "90s", default 10)'],
              ['`run_missed_jobs`', 'at start-up, run jobs whose time passed while the service was not running'],
              ['`run_initial_sync_on_startup`', 'at start-up, run every active job once'],
              ['`redirect_rclone_log_output`', 'copy rclone\'s own output into the service log'],
              ['`dry_run`', 'every job runs with --dry-run'],
              ['`check_access`, `checksum_compare`, `conflict_resolve`, `conflict_loser`, `conflict_suffix`', 'defaults of the job keys of the same names'],
              ['`notifications`', 'which events reach the desktop and the `on_attention` hook: all, attention (the default) or none'],
              ['`on_attention`', 'a command run for each notification event, as a list: the program, then each argument; never through a shell'],
              ['`stale_after`', 'how long without a successful sync makes a job stale (a duration like "36h" or seconds; default three schedule periods, at least an hour)'],
              ['`failures_before_alert`', 'failed runs in a row before a job is failing and announced (1 to 100, default 3)'],
              ['`notification_details_command`', 'what a click on a notification runs, as a list; {job} becomes the job\'s name'],
              ['`run_conditions`', 'when every job may run (see RUN CONDITIONS)'],
              ['`rclone_options`, `bisync_options`, `resync_options`', 'rclone flags for every run, for bisync runs, and for resync runs of every job (see OPTION MAPS)'],
            ],
          },
        ],
      },
      {
        title: 'JOB KEYS',
        blocks: [
          'Each key of `sync_jobs` names a job; its value is a map of these keys.',
          {
            items: [
              ['`local` (required)', 'Path1: a directory under `local_base_path`, relative to it or absolute inside it'],
              ['`rclone_remote` (required)', 'the rclone remote\'s name without the colon; "" or local makes Path2 a local directory'],
              ['`remote` (required)', 'the path on the remote; Path2 is rclone_remote:remote'],
              ['`schedule` (required)', 'a cron expression (5 fields, 6 with seconds first) or @hourly, @daily, @weekly, @monthly, @yearly'],
              ['`active`', 'false keeps the job in the file but never runs it on schedule (default true)'],
              ['`dry_run`', 'this job runs with --dry-run'],
              ['`force_resync`', 'the next run is a --resync; files that differ between the sides keep both versions'],
              ['`force_operation`', 'standing approval: every bisync gets --force. Prefer `rbmctl approve`, which shows the deletes first'],
              ['`check_access`', 'both sides must contain an RCLONE_TEST file, so a missing mount aborts instead of deleting'],
              ['`checksum_compare`', 'compare checksums as well as size and modtime where rclone and the remote can (default true)'],
              ['`auto_resync`', 'resync on its own after a lockout instead of waiting for `rbmctl sync --resync`'],
              ['`conflict_resolve`, `conflict_loser`, `conflict_suffix`', 'rclone 1.66 and later: how conflicts are resolved and the loser named'],
              ['`notifications`, `on_attention`, `stale_after`, `failures_before_alert`', 'this job\'s own alert settings, instead of the top-level ones'],
              ['`run_conditions`', 'this job\'s own run conditions; each key set replaces the top-level one (see RUN CONDITIONS)'],
              ['`filters_file`', 'this job\'s rclone filters file, instead of `exclusion_rules_file`'],
              ['`rclone_options`, `bisync_options`, `resync_options`', 'rclone flags for this job'],
            ],
          },
        ],
      },
      {
        title: 'RUN CONDITIONS',
        blocks: [
          '`run_conditions` is a map of these keys. A scheduled run that falls while a condition is not met waits (`rbmctl status` says why, e.g. "waiting: on battery") and runs as soon as it is met; `rbmctl sync` <JOB> by hand runs anyway. The service follows NetworkManager and UPower on the system bus, with no polling; a condition that cannot be judged there (no system bus, no NetworkManager or UPower) counts as met and the status says so once.',
          {
            items: [
              ['`metered`', 'allow (default) or avoid: no run on a metered connection (NetworkManager\'s Metered yes or guess-yes)'],
              ['`power`', 'any (default), ac (mains power only), or battery_above_<N> (on battery only while the charge is above <N>%, 1 to 99)'],
              ['`network`', 'any (default) or full: only while NetworkManager\'s Connectivity is full'],
              ['`windows`', 'a list of time windows such as "22:00-06:00", "Mon-Fri 09:00-17:00" or "Sat,Sun", in the system\'s time zone; a range may cross midnight; empty (the default) means any time'],
              ['`mid_run`', 'stop (default) or finish: what a window end or a metered connection does to a running sync. stop stops it gracefully with rclone 1.66 and later and lets it finish with older rclone, where a stop forces a resync'],
            ],
          },
        ],
      },
      {
        title: 'OPTION MAPS',
        blocks: [
          'An option map gives rclone flags by their long name without dashes: `max_delete: 5` is --max-delete=5, `fast_list: true` is --fast-list, `checksum: false` gives nothing (and removes the flag set at a lower level), a list repeats the flag. `bwlimit` takes a rate ("512k", "10M:1M", off) or rclone\'s timetable ("08:00,512k 19:00,off", "Mon-08:00,512k Sat-10:00,off"), checked when the file is read. Flags the manager owns (resync, dry-run, check-access, filters-file, force, workdir, logging and stats flags and others) are refused with the key that sets them instead. Secret options are read from the environment or a file, never written in the config.',
        ],
      },
      {
        title: 'EXAMPLE',
        blocks: [{ example: 'local_base_path: ~/Sync\nmax_parallel_jobs: 2\nsync_jobs:\n  documents:\n    local: documents\n    rclone_remote: gdrive\n    remote: Documents\n    schedule: "*/15 * * * *"\n    check_access: true' }],
      },
      { title: 'FILES', blocks: [{ items: FILES.slice(0, 1) }] },
      { title: 'SEE ALSO', blocks: ['`rclone-bisync-manager`(1), `rbmctl`(1), `rclone`(1); docs/configuration.md in the package has every detail'] },
    ],
  },
];

/** Escape text for roff: backslashes, a leading dot or quote, and dashes (as minus signs in code). */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\e');
}

/** Inline markup to roff fonts: `code` bold, <PLACEHOLDER> italic. */
function inline(text: string): string {
  if (/[^\x20-\x7e\n]/.test(text)) throw new Error(`non-ASCII text in a man page: ${JSON.stringify(text)}`);
  let out = '';
  const pattern = /`([^`]+)`|<([A-Z][A-Z0-9_:.]*)>/g;
  let last = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    out += escapeText(text.slice(last, m.index));
    out += m[1] !== undefined ? `\\fB${escapeText(m[1]).replace(/-/g, '\\-')}\\fR` : `\\fI${escapeText(m[2]!)}\\fR`;
    last = m.index + m[0].length;
  }
  out += escapeText(text.slice(last));
  return out;
}

/** A line of running text: never starting with a control character. */
function textLine(text: string): string {
  const line = inline(text);
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

export function renderPage(page: ManPage, version: string): string {
  const lines = [
    `.\\" Generated by scripts/generate-man.ts from its page data; edit that, then run: npm run man`,
    `.TH "${page.name.toUpperCase()}" "${page.section}" "" "${APP} ${version}" "${MANUAL}"`,
    '.SH NAME',
    `${page.name.replace(/-/g, '\\-')} \\- ${textLine(page.summary)}`,
  ];
  for (const section of page.sections) {
    lines.push(`.SH ${section.title}`);
    section.blocks.forEach((block, index) => {
      if (index > 0) lines.push('.PP');
      if (typeof block === 'string') lines.push(textLine(block));
      else if ('items' in block) for (const [term, text] of block.items) lines.push('.TP', textLine(term), textLine(text));
      else lines.push('.PP', '.nf', '.RS 4', ...block.example.split('\n').map(textLine), '.RE', '.fi');
    });
  }
  return `${lines.join('\n')}\n`;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function main(check: boolean): number {
  let stale = 0;
  for (const page of PAGES) {
    const file = join(ROOT, 'man', page.file);
    const text = renderPage(page, version());
    if (!check) writeFileSync(file, text);
    else if (readFileSafe(file) !== text) {
      process.stderr.write(`man/${page.file} is stale: run npm run man\n`);
      stale++;
    }
  }
  return stale === 0 ? 0 : 1;
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.includes('--check'));
