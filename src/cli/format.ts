// rbmctl's human output: aligned tables, times as local date + relative, sizes in binary units, one line per
// signal; and JSON output with bigint as strings. Pure functions of their input (the clock is passed in).

import type { JobView, ManagerSignal, ProgressView, RunView, StatusView } from '../dbus/client.js';
import { renderHint } from '../api/hints.js';
import { globalSnoozeLine, healthNotes, jobSnoozeText } from './health-view.js';

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** One-line JSON (watch --json). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function formatBytes(n: number | bigint): string {
  let value = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** µs since the epoch → "2024-05-01 10:00 (5m ago)"; 0 → the `never` text. */
export function formatTime(usec: bigint, now: number, never = 'never'): string {
  if (usec === 0n) return never;
  const ms = Number(usec / 1000n);
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const delta = ms - now;
  const relative = Math.abs(delta) < 1000 ? 'now' : delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
  return `${date} (${relative})`;
}

/** Columns padded to the widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** `3 deletes and 11 overwrites (of files on the other side) wait for approval`. */
export function pendingSummary(deletes: number, overwrites: number): string {
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  return `${n(deletes, 'delete')} and ${n(overwrites, 'overwrite')} of existing files wait for approval`;
}

function jobAttention(job: JobView): string | undefined {
  // A service that reports health says why a waiting job waits in its health reason (healthNotes): said once.
  if (job.health === undefined) {
    const waiting = waitingNote(job);
    if (waiting) return waiting;
  }
  if (job.hash_warning) return `${job.name}: rclone reported hash warnings in a recent run`;
  if (!job.cpu_limit_applied) return `${job.name}: max_cpu_usage_percent is set but cpulimit is not installed`;
  return undefined;
}

/** What a job waits for, from an older service that sends no health. */
function waitingNote(job: JobView): string | undefined {
  if (job.needs_approval) return `${job.name}: a safety abort waits for approval: rbmctl approve ${job.name}`;
  if (job.needs_resync) return `${job.name}: needs a resync: rbmctl sync --resync ${job.name}`;
  if (job.state === 'check-failed') return `${job.name}: waits, nothing touched (it syncs by itself once the check passes): ${job.last_message}`;
  return undefined;
}

export function formatProgress(p: ProgressView): string {
  const total = Number(p.total_bytes);
  const percent = total > 0 ? `${Math.floor((Number(p.bytes) * 100) / total)}%` : '';
  const parts = [percent, `${formatBytes(p.bytes)}${total > 0 ? `/${formatBytes(total)}` : ''}`, `${p.transfers}/${p.total_transfers} files`];
  if (p.speed > 0) parts.push(`${formatBytes(Math.round(p.speed))}/s`);
  if (p.eta_sec !== undefined) parts.push(`ETA ${formatDuration(Number(p.eta_sec) * 1000)}`);
  return parts.filter((x) => x !== '').join('  ');
}

/** The state column's watch marker: a watched job says so, and so does one whose watch is not working. */
const WATCH_MARKERS: Readonly<Record<string, string>> = { watching: ' (watched)', starting: ' (watch starting)', failed: ' (watch off)', 'root-gone': ' (watch: folder gone)' };

function watchMarker(job: JobView): string {
  return WATCH_MARKERS[job.watch ?? 'off'] ?? '';
}

/** A line for a job whose watch is not working (what happened and what to do). */
function watchNote(job: JobView): string | undefined {
  return (job.watch === 'failed' || job.watch === 'root-gone') && job.watch_message ? `${job.name}: sync on change is off: ${job.watch_message}` : undefined;
}

export function formatStatus(status: StatusView, now: number): string {
  const lines = [
    `rclone-bisync-manager ${status.version}: ${status.state}, rclone ${status.rclone_version || 'unknown'}`,
    `config: ${status.config_path}`,
  ];
  if (status.config_error) lines.push(`config error (the last good config stays in force):`, ...status.config_error.split('\n').map((l) => `  ${l}`));
  lines.push(`running: ${status.running_jobs.join(', ') || 'none'}; queued: ${status.queued_jobs.join(', ') || 'none'}`);
  const snoozed = globalSnoozeLine(status, now);
  if (snoozed) lines.push(snoozed);
  if (status.jobs.length === 0) {
    lines.push('', 'No jobs configured.');
    return lines.join('\n');
  }
  lines.push(
    '',
    table(
      ['JOB', 'STATE', 'HEALTH', 'LAST RESULT', 'LAST RUN', 'NEXT RUN'],
      status.jobs.map((j) => [j.name, `${j.state}${watchMarker(j)}`, j.health ?? '-', j.last_result, formatTime(j.last_run_usec, now), formatTime(j.next_run_usec, now, '-')]),
    ),
  );
  for (const j of status.jobs) if (j.progress) lines.push(`${j.name}: ${formatProgress(j.progress)}`);
  for (const j of status.jobs) if (j.waiting) lines.push(`${j.name}: waiting: ${j.waiting}`);
  const notes = healthNotes(status, status.jobs, now);
  notes.push(...status.jobs.map(jobAttention).filter((x): x is string => x !== undefined));
  for (const j of status.jobs) if (j.checksum_note) notes.push(`${j.name}: ${j.checksum_note}`);
  for (const j of status.jobs) notes.push(...[watchNote(j)].filter((x): x is string => x !== undefined));
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}

/** One job in detail; `globalSnoozeUsec` (the status's snoozed_until_usec) tells a job's own snooze from the global one. */
export function formatJob(job: JobView, now: number, globalSnoozeUsec = 0n): string {
  const rows: [string, string][] = [
    ['job', job.name],
    ['state', job.paused && job.state !== 'paused' ? `${job.state} (paused)` : job.state],
    ...healthRows(job, now, globalSnoozeUsec),
    ['local', job.local],
    ['remote', job.remote],
    ['schedule', `${job.schedule}${job.active ? '' : ' (inactive)'}${job.dry_run ? ' (dry run)' : ''}`],
    ['last result', job.last_run_id === 0n ? job.last_result : `${job.last_result} (run ${job.last_run_id})`],
    ['last run', formatTime(job.last_run_usec, now)],
    ['next run', formatTime(job.next_run_usec, now, '-')],
  ];
  if (job.last_message) rows.push(['message', job.last_message]);
  if (job.last_error) rows.push(['last error', job.last_error]);
  if (job.current_run_id !== 0n) rows.push(['current run', String(job.current_run_id)]);
  if (job.progress) rows.push(['progress', formatProgress(job.progress)]);
  if (job.checksum_note) rows.push(['note', job.checksum_note]);
  if (job.watch !== undefined && job.watch !== 'off') rows.push(['watch', job.watch_message ? `${job.watch}: ${job.watch_message}` : job.watch]);
  if (job.waiting) rows.push(['waiting', job.waiting]);
  if (job.conditions_note) rows.push(['conditions', job.conditions_note]);
  if (job.needs_approval && job.pending_deletes !== undefined) rows.push(['waiting', pendingSummary(job.pending_deletes, job.pending_overwrites ?? 0)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`);
  const note = jobAttention(job);
  if (note) lines.push('', note);
  return lines.join('\n');
}

/** `health:`, `reason:` and `notifications:` rows of one job (none from an older service that sends no health). */
function healthRows(job: JobView, now: number, globalSnoozeUsec: bigint): [string, string][] {
  if (job.health === undefined) return [];
  const rows: [string, string][] = [['health', job.health]];
  if (job.health_reason) rows.push(['reason', job.health_reason]);
  const own = jobSnoozeText(job, globalSnoozeUsec, now);
  const global = globalSnoozeLine({ snoozed_until_usec: globalSnoozeUsec }, now);
  if (own) rows.push(['notifications', `${own} (rbmctl unsnooze ${job.name} ends it)`]);
  else if (global) rows.push(['notifications', global.replace(/^notifications: /, '')]);
  return rows;
}

export function formatJobs(jobs: readonly JobView[]): string {
  if (jobs.length === 0) return 'No jobs configured.';
  return table(
    ['JOB', 'ACTIVE', 'SCHEDULE', 'LOCAL', 'REMOTE'],
    jobs.map((j) => [j.name, j.active ? 'yes' : 'no', j.schedule, j.local, j.remote]),
  );
}

export function formatHistory(runs: readonly RunView[], now: number): string {
  if (runs.length === 0) return 'No runs yet.';
  return table(
    ['RUN', 'JOB', 'RESULT', 'OPERATION', 'TRIGGER', 'STARTED', 'TOOK', 'FILES', 'BYTES', 'MESSAGE'],
    runs.map((r) => [
      String(r.run_id),
      r.job,
      r.result,
      `${r.operation}${r.dry_run ? ' (dry)' : ''}`,
      r.trigger || '-',
      formatTime(r.started_usec, now),
      r.finished_usec > r.started_usec ? formatDuration(Number((r.finished_usec - r.started_usec) / 1000n)) : '-',
      String(r.files),
      formatBytes(r.bytes),
      r.message,
    ]),
  );
}

/** The outcome of one run: a headline plus the hint, conflicts and error lines that matter. */
export function formatOutcome(job: string, runId: bigint, result: string, details: RunView | undefined): string {
  const lines = [`${job}: ${result} (run ${runId})${details?.message ? `: ${details.message}` : ''}`];
  if (details) {
    if (details.files > 0n || details.deletes > 0) lines.push(`  ${details.files} files, ${formatBytes(details.bytes)} transferred, ${details.deletes} deleted`);
    if (details.conflicts.length > 0) lines.push(`  conflicts (both versions kept): ${details.conflicts.join(', ')}`);
    if (details.error) lines.push(`  error: ${details.error}`);
    // Rendered here too: records kept from before hints were filled in (history on disk, an older service) say JOB.
    if (details.hint) lines.push(`  next: ${renderHint(details.hint, job)}`);
  }
  return lines.join('\n');
}

/** One line per signal for `rbmctl watch`. */
export function formatSignal(signal: ManagerSignal, now: number): string {
  const d = new Date(now);
  const stamp = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const text = (() => {
    switch (signal.kind) {
      case 'job-started':
        return `${signal.job}: started ${signal.operation} (run ${signal.runId})`;
      case 'job-progress':
        return `${signal.job}: ${formatProgress(signal.progress)} (run ${signal.runId})`;
      case 'job-finished':
        return formatOutcome(signal.job, signal.runId, signal.result, signal.details).split('\n')[0] ?? '';
      case 'config-reloaded':
        return signal.ok ? 'config reloaded' : `config reload failed: ${signal.error.split('\n')[0] ?? ''}`;
      case 'properties-changed': {
        const changes = Object.entries(signal.changed)
          .filter(([k]) => k !== 'Name')
          .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
          .join(' ');
        return `${signal.job ?? 'service'}: ${changes}`;
      }
      case 'job-added':
        return `${signal.job}: job added`;
      case 'job-removed':
        return `${signal.job}: job removed`;
      case 'service-gone':
        return 'the service left the bus';
      case 'bus-lost':
        return 'lost the connection to the session bus';
    }
  })();
  return `${stamp} ${text}`;
}
