// One timed `Sync` over the bus: from just before the call to the receipt of the matching JobFinished signal,
// with JobStarted's receipt as a split (what happens before rclone is spawned).

import { variantValue, type BusClient } from './client.js';

export interface TimedSync {
  /** Sync call → JobFinished received, ms. */
  ms: number;
  /** Sync call → JobStarted received, ms (NaN if the service sent none). */
  startedMs: number;
  result: string;
  details: Record<string, unknown>;
}

export async function timedSync(client: BusClient, job: string, timeoutMs = 600_000): Promise<TimedSync> {
  const finished = new Map<bigint, { at: number; result: string; details: Record<string, unknown> }>();
  const started = new Map<bigint, number>();
  let wanted: bigint | undefined;
  let wake: (() => void) | undefined;
  const offFinished = client.onSignal('JobFinished', (args) => {
    const at = performance.now();
    const details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((args[4] ?? {}) as Record<string, unknown>)) details[k] = variantValue(v);
    finished.set(args[2] as bigint, { at, result: String(args[3]), details });
    if (wanted !== undefined && finished.has(wanted)) wake?.();
  });
  const offStarted = client.onSignal('JobStarted', (args) => started.set(args[2] as bigint, performance.now()));
  try {
    const t0 = performance.now();
    const [ids] = await client.call('Sync', 'asa{sv}', [[job], {}]);
    const id = (ids as bigint[])[0];
    if (id === undefined) throw new Error(`Sync([${job}]) returned no run id`);
    wanted = id;
    if (!finished.has(id)) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no JobFinished for ${job} run ${id} within ${timeoutMs} ms`)), timeoutMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const f = finished.get(id)!;
    const s = started.get(id);
    return { ms: f.at - t0, startedMs: s === undefined ? Number.NaN : s - t0, result: f.result, details: f.details };
  } finally {
    offFinished();
    offStarted();
  }
}
