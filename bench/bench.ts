// `npm run bench`: measures the built service against plain rclone and bare Node on a private bus, prints a table
// (median, min, max; p50/p99 for latencies) with each goal of issue 8 marked ✓/✗. `--quick` is the CI smoke run,
// `--json` prints machine-readable results, `--markdown FILE` writes the tables for docs/performance.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBus } from './bus.js';
import { createContext } from './context.js';
import type { BenchContext } from './context.js';
import { measureChecksum } from './checksum.js';
import { measureControl } from './control.js';
import { measureIdle } from './idle.js';
import { measureLateness } from './lateness.js';
import { machineInfo } from './machine.js';
import { startNotifyListener } from './notify.js';
import { measureOverhead } from './overhead.js';
import { stopAll } from './procs.js';
import { pickRclone } from './rclone.js';
import { measureReload } from './reload.js';
import { renderMarkdown, renderText, section } from './report.js';
import type { SectionResult } from './report.js';
import { measureScale } from './scale.js';
import { measureStartup } from './startup.js';
import { measureWatchCost } from './watch-cost.js';
import { measureWatchLatency } from './watch-latency.js';

const MEASURES: readonly { id: string; title: string; run: (ctx: BenchContext) => Promise<SectionResult> }[] = [
  { id: 'overhead', title: '1. Service overhead per sync', run: measureOverhead },
  { id: 'lateness', title: '2. Scheduling lateness', run: measureLateness },
  { id: 'startup', title: '3. Start-up', run: measureStartup },
  { id: 'idle', title: '4. Idle cost', run: measureIdle },
  { id: 'control', title: '5. Control latency', run: measureControl },
  { id: 'reload', title: '6. Reload', run: measureReload },
  { id: 'scale', title: '7. Scale', run: measureScale },
  { id: 'checksum', title: '8. Checksum compare', run: measureChecksum },
  { id: 'watch', title: '9. Watch cost', run: measureWatchCost },
  { id: 'latency', title: '10. Propagation latency (sync on change)', run: measureWatchLatency },
];

const USAGE = `usage: node dist/bench/bench.js [--quick] [--json] [--rclone PATH] [--only ID,ID] [--markdown FILE] [--keep]
  --quick          small trees, few repetitions (under a minute): proves the bench works
  --json           print results as JSON on stdout (progress stays on stderr)
  --rclone PATH    rclone to use (default: the project's cached modern rclone, else rclone on PATH)
  --only IDS       run only these measures: ${MEASURES.map((m) => m.id).join(', ')}
  --markdown FILE  also write the result tables as Markdown
  --save FILE      also write the JSON results to FILE
  --keep           keep the temp directory`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      rclone: { type: 'string' },
      only: { type: 'string' },
      markdown: { type: 'string' },
      save: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !MEASURES.some((m) => m.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`bench: unknown measure ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const progress = (message: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  const rclone = pickRclone(values.rclone);
  progress(`rclone ${rclone.version} (${rclone.origin}: ${rclone.path})${values.quick ? ', quick mode' : ''}`);
  const loadBefore = loadavg();
  if (loadBefore[0]! > 0.5) progress(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}: figures will be noisy`);

  const tmp = mkdtempSync(join(tmpdir(), 'rbm-bench-'));
  const sections: SectionResult[] = [];
  const started = performance.now();
  try {
    const bus = await startBus(join(tmp, 'bus'));
    const notify = await startNotifyListener(tmp);
    const ctx = createContext({ quick: values.quick, rclone, tmp, bus, notify, progress });
    for (const m of MEASURES) {
      if (only !== undefined && !only.includes(m.id)) continue;
      progress(`measure ${m.title}`);
      const t0 = performance.now();
      try {
        sections.push(await m.run(ctx));
        // Keep what is measured so far: a long run that fails later still leaves its figures.
        if (values.save !== undefined) writeFileSync(values.save, JSON.stringify({ partial: true, sections }, null, 2) + '\n');
      } catch (e: unknown) {
        const failed = section(m.id, m.title);
        failed.error = e instanceof Error ? e.message : String(e);
        sections.push(failed);
        progress(`measure ${m.id} failed: ${failed.error}`);
      }
      progress(`measure ${m.id} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await stopAll();
    if (values.keep) progress(`temp directory kept: ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  const machine = { ...machineInfo(rclone), loadAverageBefore: loadBefore.map((l) => Math.round(l * 100) / 100) };
  const result = { quick: values.quick, seconds: Math.round((performance.now() - started) / 100) / 10, machine, sections };
  if (values.markdown !== undefined) writeFileSync(values.markdown, renderMarkdown(sections));
  if (values.save !== undefined) writeFileSync(values.save, JSON.stringify(result, null, 2) + '\n');
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`rclone ${rclone.version} (${rclone.origin}), node ${machine.node}, ${machine.cores} cores, ${machine.memoryGiB} GiB, kernel ${machine.kernel}`);
    console.log(`load average before ${machine.loadAverageBefore.join(' ')}, after ${machine.loadAverage.join(' ')}; took ${result.seconds} s`);
    console.log(renderText(sections));
  }
  return sections.some((s) => s.error !== undefined) ? 1 : 0;
}

// Ctrl-C: end the children this run started (service, bus, sftp server, listener), then leave.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
});
