// History(job, limit) as every control adapter answers it (D-Bus and the in-process client of rbmctl): one job's
// runs, or every job's merged newest first; limit 0 is the default page.
import type { RunRecord } from '../run/types.js';
import type { ControlApi } from './control-api.js';

/** Runs one History call returns when the caller asks for 0 (the default page). */
export const DEFAULT_HISTORY_LIMIT = 20;
/** Most runs one History call returns. */
export const MAX_HISTORY_LIMIT = 1000;

/** `job` '' means every job in `jobNames`. The name must already be parsed; the limit is clamped here. */
export function historyPage(api: Pick<ControlApi, 'history'>, jobNames: readonly string[], job: string, limit: number): RunRecord[] {
  const max = limit === 0 ? DEFAULT_HISTORY_LIMIT : Math.min(limit, MAX_HISTORY_LIMIT);
  if (job !== '') return api.history(job, max).slice(0, max);
  return jobNames
    .flatMap((name) => api.history(name, max))
    .sort((a, b) => b.runId - a.runId)
    .slice(0, max);
}
