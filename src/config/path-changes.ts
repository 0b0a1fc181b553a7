// Job paths changed by a reload (issue 12 case 6). A changed path makes the next run resync a new pair, so a reload
// the file watcher picked up is held back when the new path looks cut or mistyped: it contains the old one or lies
// inside it (a folder merged into the job, both ways), or, for a local directory, it does not exist. An explicit
// reload (rbmctl reload, SIGHUP) is the user's confirmation and applies it. Pure: the existence check is injected.
import type { JobConfig } from './types.js';

export interface PathChange {
  job: string;
  side: 'local' | 'remote';
  from: string;
  to: string;
}

/** The paths of jobs present in both configs that differ (a new or removed job is not a change). */
export function jobPathChanges(previous: readonly JobConfig[], next: readonly JobConfig[]): PathChange[] {
  const before = new Map(previous.map((j) => [j.name, j]));
  const changes: PathChange[] = [];
  for (const job of next) {
    const old = before.get(job.name);
    if (!old) continue;
    if (old.local !== job.local) changes.push({ job: job.name, side: 'local', from: old.local, to: job.local });
    if (old.path2 !== job.path2) changes.push({ job: job.name, side: 'remote', from: old.path2, to: job.path2 });
  }
  return changes;
}

/** A path with one trailing separator, so a prefix test respects boundaries (`remote:` stays as it is). */
function boundary(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.endsWith(':') ? trimmed : `${trimmed}/`;
}

/** Why this change must not be applied without the user's confirmation; undefined when it looks deliberate. */
export function suspiciousPathChange(change: PathChange, isDirectory: (path: string) => boolean): string | undefined {
  const from = boundary(change.from);
  const to = boundary(change.to);
  if (from.startsWith(to)) return `the new ${change.side} path ${change.to} contains the old one (${change.from})`;
  if (to.startsWith(from)) return `the new ${change.side} path ${change.to} lies inside the old one (${change.from})`;
  // Only plain directories can be checked here (a remote is not reached during a reload).
  if (change.to.startsWith('/') && !isDirectory(change.to)) return `the new ${change.side} path ${change.to} does not exist`;
  return undefined;
}
