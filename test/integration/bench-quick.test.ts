// `npm run bench -- --quick` works: the built bench runs every measure against the real service, rclone and a
// private dbus-daemon, and its --json output has every section with numeric figures. No timing thresholds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SectionResult } from '../../bench/report.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BENCH = join(ROOT, 'dist', 'bench', 'bench.js');
const SECTIONS = ['overhead', 'lateness', 'startup', 'idle', 'control', 'reload', 'scale', 'checksum', 'watch', 'latency'];

/** What `bench --json` prints (the bench's own result types, read back from the child's output). */
interface Output {
  quick: boolean;
  machine: { cores: number; rclone: string; node: string };
  sections: SectionResult[];
}

test('the quick bench measures every section and prints numeric JSON', { timeout: 180_000 }, async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone || !requireProgram(t, 'dbus-daemon') || !requireProgram(t, 'python3') || !requireProgram(t, 'busctl')) return;
  assert.ok(existsSync(BENCH), 'dist/bench/bench.js is built (npm run build)');
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BENCH, '--quick', '--json', '--rclone', rclone], { maxBuffer: 16 * 1024 * 1024, timeout: 170_000 }, (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout: out, stderr: err });
    });
  });
  assert.equal(code, 0, `bench exited with ${code}:\n${stderr.slice(-3000)}`);
  const result = JSON.parse(stdout) as Output;
  assert.equal(result.quick, true);
  assert.ok(result.machine.cores >= 1);
  assert.match(result.machine.rclone, /^v\d+\.\d+/);
  assert.deepEqual(result.sections.map((s) => s.id), SECTIONS);
  for (const s of result.sections) {
    assert.equal(s.error, undefined, `section ${s.id} failed: ${s.error}`);
    assert.ok(s.rows.length > 0, `section ${s.id} has figures`);
    // Scheduling lateness counts only runs whose previous run had finished before their cron instant; on a loaded
    // machine (CI runs test files in parallel) a quick run's few samples can all be coalesced, so one row may be empty.
    const rows = s.id === 'lateness' ? s.rows.filter((r) => r.n > 0) : s.rows;
    assert.ok(rows.length > 0, `section ${s.id} has measured rows`);
    for (const r of rows) {
      assert.ok(r.n >= 1, `${s.id} / ${r.name}: n >= 1`);
      for (const key of ['median', 'min', 'max'] as const) assert.ok(Number.isFinite(r[key]), `${s.id} / ${r.name}: ${key} is a number (${r[key]})`);
      assert.ok(r.min <= r.median && r.median <= r.max, `${s.id} / ${r.name}: min <= median <= max`);
    }
    const goals = s.id === 'lateness' ? s.goals.filter((g) => Number.isFinite(g.value)) : s.goals;
    for (const g of goals) assert.ok(Number.isFinite(g.value) && typeof g.met === 'boolean', `${s.id} / ${g.name}: numeric goal value`);
  }
  for (const id of ['overhead', 'lateness', 'startup', 'idle', 'control', 'reload']) {
    assert.ok(result.sections.find((s) => s.id === id)!.goals.length > 0, `section ${id} checks its goal of issue 8`);
  }
});
