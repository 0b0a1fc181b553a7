// The bench's results: rows of figures per section, goals with ✓/✗, and their text and JSON renderings.

import { fmt, summarize } from './stats.js';
import type { Summary } from './stats.js';

export interface Row {
  name: string;
  unit: string;
  n: number;
  median: number;
  min: number;
  max: number;
  p50?: number;
  p99?: number;
  note?: string;
}

export interface Goal {
  name: string;
  /** Human text of the target, e.g. "≤ 1.05". */
  target: string;
  value: number;
  limit: number;
  unit: string;
  met: boolean;
}

export interface SectionResult {
  id: string;
  title: string;
  rows: Row[];
  goals: Goal[];
  notes: string[];
  /** Set when the section could not run to the end; rows hold what was measured before. */
  error?: string;
}

export function section(id: string, title: string): SectionResult {
  return { id, title, rows: [], goals: [], notes: [] };
}

/** A row from raw samples; percentiles are included when `percentiles` is set (latency distributions). */
export function rowFrom(name: string, unit: string, samples: readonly number[], options: { percentiles?: boolean; note?: string } = {}): Row {
  const s: Summary = summarize(samples);
  const row: Row = { name, unit, n: s.n, median: s.median, min: s.min, max: s.max };
  if (options.percentiles) {
    row.p50 = s.p50;
    row.p99 = s.p99;
  }
  if (options.note !== undefined) row.note = options.note;
  return row;
}

/** A single measured value (n = 1). */
export function rowValue(name: string, unit: string, value: number, note?: string): Row {
  return { name, unit, n: 1, median: value, min: value, max: value, ...(note === undefined ? {} : { note }) };
}

export function goalAtMost(name: string, value: number, limit: number, unit: string): Goal {
  return { name, target: `≤ ${fmt(limit)} ${unit}`.trim(), value, limit, unit, met: value <= limit };
}

function pad(text: string, width: number, right = false): string {
  const len = [...text].length;
  return len >= width ? text : right ? ' '.repeat(width - len) + text : text + ' '.repeat(width - len);
}

export function renderText(sections: readonly SectionResult[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push('', `## ${s.title}`);
    if (s.rows.length > 0) {
      const nameWidth = Math.max(...s.rows.map((r) => [...r.name].length), 4);
      out.push(`${pad('', nameWidth)}  ${pad('n', 4, true)}  ${pad('median', 9, true)}  ${pad('min', 9, true)}  ${pad('max', 9, true)}  ${pad('p50', 9, true)}  ${pad('p99', 9, true)}  unit`);
      for (const r of s.rows) {
        out.push(
          `${pad(r.name, nameWidth)}  ${pad(String(r.n), 4, true)}  ${pad(fmt(r.median), 9, true)}  ${pad(fmt(r.min), 9, true)}  ${pad(fmt(r.max), 9, true)}  ${pad(fmt(r.p50), 9, true)}  ${pad(fmt(r.p99), 9, true)}  ${r.unit}${r.note ? `  (${r.note})` : ''}`,
        );
      }
    }
    for (const g of s.goals) out.push(`  ${g.met ? '✓' : '✗'} ${g.name}: ${fmt(g.value)} ${g.unit} (goal ${g.target})`);
    for (const n of s.notes) out.push(`  note: ${n}`);
    if (s.error !== undefined) out.push(`  ERROR: ${s.error}`);
  }
  return out.join('\n');
}

/** Markdown tables for docs/performance.md. */
export function renderMarkdown(sections: readonly SectionResult[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`### ${s.title}`, '');
    if (s.rows.length > 0) {
      out.push('| | n | median | min | max | p50 | p99 | unit |', '|---|---|---|---|---|---|---|---|');
      for (const r of s.rows) out.push(`| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.n} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.unit} |`);
      out.push('');
    }
    for (const g of s.goals) out.push(`- ${g.met ? '✓' : '✗'} ${g.name}: **${fmt(g.value)} ${g.unit}** (goal ${g.target})`);
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.error !== undefined) out.push(`- **error:** ${s.error}`);
    out.push('');
  }
  return out.join('\n');
}
