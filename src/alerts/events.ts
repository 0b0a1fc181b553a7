// What is announced to a person (issue 15): a job whose health turns attention, failing or stale, a run with
// conflicts, and a job that is healthy again after an announced problem. Texts, urgency, icon, category and the
// actions offered are decided here, once. Pure.

import type { JobHealth, JobStatus } from '../api/control-api.js';
import { waitingOutcome, type WaitingOutcome } from '../api/job-attention.js';
import type { RunRecord } from '../run/types.js';

/** RBM_STATE of the on_attention hook: the health the job turned to, or `conflicts` for a run with conflicts. */
export type AlertKind = Exclude<JobHealth, 'ok'> | 'ok' | 'conflicts' | 'watch-off';

/** Notification urgency as the spec's `urgency` hint byte: 0 low, 1 normal, 2 critical. */
export type Urgency = 0 | 1 | 2;

/** sync: "Sync now" (a manual run); details: the details command; review: the details command showing the approval list. */
export type AlertAction = 'sync' | 'details' | 'review';

/** Which notification of a job an event belongs to: its health problem (replaced by the recovery) or its last conflicts. */
export type AlertSlot = 'health' | 'conflicts' | 'watch';

export interface AlertEvent {
  job: string;
  kind: AlertKind;
  slot: AlertSlot;
  /** One problem per job and slot: the same key again is not announced again. */
  problemKey: string;
  summary: string;
  body: string;
  /** What to do next, one command or sentence (RBM_HINT). */
  hint: string;
  /** The run the event comes from (0 when none). */
  runId: number;
  urgency: Urgency;
  icon: string;
  category: 'transfer.error' | 'transfer.complete';
  /** The first is the default action (clicking the notification); the rest are buttons. */
  actions: AlertAction[];
  /** Why the event is only logged (a recovery from a problem never announced, a job no longer flagged without a sync). */
  quiet?: string;
}

/** The event in one line (the log, RBM_MESSAGE): the headline, a dash, the body. */
export function eventText(event: Pick<AlertEvent, 'summary' | 'body'>): string {
  return event.body === '' ? event.summary : `${event.summary} — ${event.body}`;
}

/**
 * Text as a server with `body-markup` reads it: `&`, `<` and `>` escaped, so a path like `a&b<1>.txt` shows as
 * written (the spec's markup is a small XML subset). Servers without the capability show text as it is.
 */
export function markupSafe(text: string, caps: readonly string[]): string {
  if (!caps.includes('body-markup')) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** How many paths an approval notification names before "and N more". */
export const APPROVAL_PATHS_SHOWN = 3;

const URGENCY: Record<AlertKind, Urgency> = { attention: 2, failing: 1, stale: 1, conflicts: 0, ok: 0, 'watch-off': 1 };
const ICON: Record<AlertKind, string> = { attention: 'dialog-error', failing: 'dialog-warning', stale: 'dialog-warning', conflicts: 'dialog-information', ok: 'folder-sync', 'watch-off': 'dialog-warning' };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "a, b, c and 9 more": the first paths of a list whose full size is `total`. */
export function firstPaths(paths: readonly string[], total: number, shown = APPROVAL_PATHS_SHOWN): string {
  const first = paths.slice(0, shown);
  const rest = Math.max(total - first.length, 0);
  return rest > 0 ? `${first.join(', ')} and ${rest} more` : first.join(', ');
}

/** The problem a status shows, as a key: `ok`, `failing`, `stale`, or `attention:<what it waits for>`. */
export function problemKeyOf(status: Pick<JobStatus, 'health' | 'state'>): string {
  if (status.health !== 'attention') return status.health;
  return `attention:${waitingOutcome(status.state) ?? 'other'}`;
}

function base(status: JobStatus, kind: AlertKind): Pick<AlertEvent, 'job' | 'kind' | 'slot' | 'problemKey' | 'runId' | 'urgency' | 'icon' | 'category'> {
  return {
    job: status.name,
    kind,
    slot: 'health',
    problemKey: problemKeyOf(status),
    runId: status.state.lastRunId,
    urgency: URGENCY[kind],
    icon: ICON[kind],
    category: kind === 'ok' ? 'transfer.complete' : 'transfer.error',
  };
}

function approvalEvent(status: JobStatus): AlertEvent {
  const { name, state } = status;
  const parts: string[] = [];
  if (state.pendingDeleteCount > 0) parts.push(`deleting ${plural(state.pendingDeleteCount, 'file')}: ${firstPaths(state.pendingDeletes, state.pendingDeleteCount)}`);
  if (state.pendingOverwriteCount > 0) {
    parts.push(`overwriting ${plural(state.pendingOverwriteCount, 'file')}: ${firstPaths(state.pendingOverwrites.map((o) => o.path), state.pendingOverwriteCount)}`);
  }
  const what = parts.length > 0 ? parts.join('; and ') : 'changes that need your approval';
  const count = state.pendingDeleteCount + state.pendingOverwriteCount;
  return {
    ...base(status, 'attention'),
    summary: `${name}: approve ${plural(count, 'change')}?`,
    body: `The sync stopped before ${what}. Nothing was deleted. Review the list with: rbmctl approve ${name}`,
    hint: `rbmctl approve ${name}`,
    actions: ['review'],
  };
}

const ATTENTION_TITLE: Record<WaitingOutcome, string> = {
  'needs-resync': 'needs a resync',
  'needs-approval': 'waits for approval',
  'check-failed': 'safety check failed: drive not mounted?',
};

function attentionEvent(status: JobStatus): AlertEvent {
  const waiting = waitingOutcome(status.state);
  if (waiting === 'needs-approval') return approvalEvent(status);
  const { name } = status;
  const resync = waiting === 'needs-resync';
  return {
    ...base(status, 'attention'),
    summary: `${name}: ${waiting ? ATTENTION_TITLE[waiting] : 'needs attention'}`,
    body: status.healthReason,
    hint: resync ? `rbmctl sync ${name} --resync` : `rbmctl status ${name}`,
    // A resync needs the person to check both sides first; a failed check may pass once the drive is back.
    actions: resync ? ['details'] : ['details', 'sync'],
  };
}

/** The event for a job whose problem changed to `status.health` (not ok). */
export function problemEvent(status: JobStatus): AlertEvent | undefined {
  switch (status.health) {
    case 'ok':
      return undefined;
    case 'attention':
      return attentionEvent(status);
    case 'failing':
      return { ...base(status, 'failing'), summary: `${status.name}: sync failing`, body: status.healthReason, hint: `rbmctl history ${status.name}`, actions: ['details', 'sync'] };
    case 'stale':
      return { ...base(status, 'stale'), summary: `${status.name}: no recent successful sync`, body: status.healthReason, hint: `rbmctl history ${status.name}`, actions: ['details', 'sync'] };
  }
}

/** The "healthy again" event that replaces the job's problem notification. */
export function recoveryEvent(status: JobStatus): AlertEvent {
  return { ...base(status, 'ok'), problemKey: 'ok', summary: `${status.name}: healthy again`, body: 'The last sync succeeded.', hint: '', actions: ['details'] };
}

/**
 * A job that no longer counts as a problem without having synced (paused, set inactive, a reload that raised
 * failures_before_alert or stale_after, a failed check followed by a failed run): logged only, in true words.
 */
export function noLongerFlaggedEvent(status: JobStatus): AlertEvent {
  return {
    ...recoveryEvent(status),
    summary: `${status.name}: no longer flagged`,
    body: `No sync succeeded since the problem; it no longer counts as one (paused, inactive, or its alert settings or state changed). See: rbmctl history ${status.name}`,
    hint: `rbmctl history ${status.name}`,
    quiet: 'no sync succeeded since the problem',
  };
}

/** One event per run with conflicts (not for a dry run): how many, the first paths. */
export function conflictsEvent(record: Pick<RunRecord, 'job' | 'runId' | 'dryRun' | 'conflicts'>): AlertEvent | undefined {
  const count = record.conflicts.length;
  if (record.dryRun || count === 0) return undefined;
  const paths = firstPaths(record.conflicts.map((c) => c.path), count);
  return {
    job: record.job,
    kind: 'conflicts',
    slot: 'conflicts',
    problemKey: `conflicts:${record.runId}`,
    runId: record.runId,
    urgency: URGENCY.conflicts,
    icon: ICON.conflicts,
    category: 'transfer.complete',
    summary: `${record.job}: ${plural(count, 'conflict')}`,
    body: `Both sides changed ${count === 1 ? 'a file' : `${count} files`}; both versions were kept: ${paths}`,
    hint: `rbmctl history ${record.job}`,
    actions: ['details'],
  };
}

/**
 * Sync on change stopped at an inotify limit (issue 16): once per failure, when the job's watch turns `failed`. The
 * body is the watcher's message (the sysctl to raise); the job keeps running on its schedule.
 */
export function watchOffEvent(status: Pick<JobStatus, 'name' | 'watch' | 'state'>, previousWatchState: string | undefined): AlertEvent | undefined {
  if (status.watch?.state !== 'failed' || previousWatchState === 'failed') return undefined;
  return {
    job: status.name,
    kind: 'watch-off',
    slot: 'watch',
    problemKey: 'watch-off',
    runId: status.state.lastRunId,
    urgency: URGENCY['watch-off'],
    icon: ICON['watch-off'],
    category: 'transfer.error',
    summary: `${status.name}: sync on change is off`,
    body: status.watch.message,
    hint: `rbmctl status ${status.name}`,
    actions: ['details'],
  };
}
