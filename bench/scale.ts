// Measure 7: config validation time and memory for 1,000 and 10,000 jobs, with the real parseConfig in a fresh
// node process per run (so RSS is the parse's own), checked against the rclone under test.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { BENCH_DIST } from './paths.js';
import { runTimed } from './procs.js';
import { rowFrom, section } from './report.js';
import type { SectionResult } from './report.js';

interface WorkerResult {
  parseMs: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  maxRssMiB: number;
  jobs: number;
}

/**
 * N jobs in YAML flow style (one line each). The config layer refuses files over 1 MiB, and 10,000 jobs in block
 * style (the service's own writer) come to ~1.2 MiB, so the scale figure uses the compact spelling.
 */
export function compactConfig(syncRoot: string, count: number, rcloneBinary: string): string {
  const lines = [`local_base_path: ${JSON.stringify(syncRoot)}`, `rclone_binary: ${JSON.stringify(rcloneBinary)}`, 'sync_jobs:'];
  for (let i = 0; i < count; i++) lines.push(`  j${i}: {local: j${i}, rclone_remote: "", remote: /srv/r/j${i}, schedule: "*/15 * * * *"}`);
  return lines.join('\n') + '\n';
}

export async function measureScale(ctx: BenchContext): Promise<SectionResult> {
  const s = section('scale', '7. Scale: config validation (parseConfig, in-process)');
  const dir = join(ctx.tmp, 'scale');
  mkdirSync(dir, { recursive: true });
  const sizes = ctx.quick ? [100] : [1_000, 10_000];
  for (const count of sizes) {
    const file = join(dir, `config-${count}.yaml`);
    writeFileSync(file, compactConfig(join(dir, 'sync'), count, ctx.rclone.path));
    const results: WorkerResult[] = [];
    const runs = ctx.quick ? 2 : count >= 10_000 ? 3 : 5;
    ctx.progress(`scale: ${count} jobs, ${runs} run(s)`);
    for (let i = 0; i < runs; i++) {
      const r = await runTimed(process.execPath, [join(BENCH_DIST, 'parse-worker.js'), file, dir, ctx.rclone.path], { capture: true });
      if (r.code !== 0) throw new Error(`parse-worker failed (${r.code}): ${r.stderr.slice(-1000)}`);
      const parsed = JSON.parse(r.stdout) as WorkerResult;
      if (parsed.jobs !== count) throw new Error(`parse-worker saw ${parsed.jobs} jobs, expected ${count}`);
      results.push(parsed);
    }
    const label = count.toLocaleString('en-US');
    s.rows.push(rowFrom(`${label} jobs: parse + validate`, 'ms', results.map((r) => r.parseMs)));
    s.rows.push(rowFrom(`${label} jobs: RSS growth during parse`, 'MiB', results.map((r) => r.rssAfterMiB - r.rssBeforeMiB)));
    s.rows.push(rowFrom(`${label} jobs: peak RSS of the process`, 'MiB', results.map((r) => r.maxRssMiB)));
    s.rows.push(rowFrom(`${label} jobs: RSS before parse (node + modules)`, 'MiB', results.map((r) => r.rssBeforeMiB)));
  }
  s.notes.push('No goal in the issue. Each run is a fresh node process: parse + validate time, and its RSS before and after.');
  return s;
}
