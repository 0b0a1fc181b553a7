// The actions a notification offers and what invoking one means. The default action (clicking the notification)
// shows the job's details; an approval's is "Review…", which shows the list in `rbmctl approve` (it asks before
// approving: nothing is ever approved from a notification). Pure.

import type { AlertAction } from './events.js';

const LABEL: Record<AlertAction, string> = { sync: 'Sync now', details: 'Show details', review: 'Review…' };

/** The spec's flat `[key, label, …]`; the first action is the default one (key `default`). Empty without the `actions` capability. */
export function actionPairs(actions: readonly AlertAction[], serverHasActions: boolean): string[] {
  if (!serverHasActions) return [];
  return actions.flatMap((action, i) => [i === 0 ? 'default' : action, LABEL[action]]);
}

/** The action an ActionInvoked key names (undefined for a key we never offered). */
export function invokedAction(key: string, offered: readonly AlertAction[]): AlertAction | undefined {
  if (key === 'default') return offered[0];
  return offered.find((action, i) => i > 0 && action === key);
}

/**
 * The details command for a job: `{job}` replaced by its name (an item that is only `{job}` is dropped for a
 * summary, which shows every job), `{action}` by `approve` for a review, else `status` (the default opens
 * `rbmctl approve JOB` or `rbmctl status JOB` in a terminal). A command without `{action}` runs as written.
 */
export function detailsArgv(command: readonly string[], job: string, review: boolean): string[] {
  const action = review ? 'approve' : 'status';
  const argv: string[] = [];
  for (const arg of command) {
    if (arg === '{job}') {
      if (job !== '') argv.push(job);
    } else {
      argv.push(arg.split('{job}').join(job).split('{action}').join(action));
    }
  }
  return argv;
}
