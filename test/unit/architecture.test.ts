// docs/architecture.md's import table is the rule; this test reads it and checks every relative import in src/
// against it (and that every folder in src/ has a row), so the document stays true to the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

interface Rule {
  values: Set<string>;
  types: Set<string>;
}

/** The table under "Who may import whom": folder → what it may import, and what it may import types from. */
function readRules(): Map<string, Rule> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Who may import whom'));
  const rules = new Map<string, Rule>();
  const list = (cell: string) => new Set(cell.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== '–'));
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length !== 5 || cells[1] === 'Folder' || cells[1]!.startsWith('---')) continue;
    rules.set(cells[1]!, { values: list(cells[2]!), types: list(cells[3]!) });
  }
  return rules;
}

/** Files the table names by themselves (an exception to their folder's row, e.g. cli/standalone.ts). */
const FILE_ROWS = new Set([...readRules().keys()].filter((row) => row.endsWith('.ts')));

/** The row a source file belongs to: `run/rules` and `run/types` are rows of their own, top-level files too. */
function unitOf(file: string): string {
  const path = relative(SRC, file).split(sep).join('/');
  if (FILE_ROWS.has(path)) return path;
  const parts = path.split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'run' && parts[1] === 'rules') return 'run/rules';
  if (parts[0] === 'run' && parts[1] === 'types.ts') return 'run/types';
  return parts[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  where: string;
}

/** Every relative import and re-export of every file, with whether it is type-only. */
function edges(): Edge[] {
  const found: Edge[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)|^\s*import\s+'(\.{1,2}\/[^']+)'/gm;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(pattern)) {
      const spec = m[3] ?? m[4] ?? m[5]!;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const from = unitOf(file);
      const to = unitOf(target);
      if (from === to) continue;
      found.push({ from, to, typeOnly: m[2] !== undefined, where: `${relative(ROOT, file)} → ${spec}` });
    }
  }
  return found;
}

test('every folder and top-level file of src/ has a row in the import table', () => {
  const rules = readRules();
  const units = new Set(sourceFiles(SRC).map(unitOf));
  assert.deepEqual([...units].filter((u) => !rules.has(u)).sort(), [], 'folders missing from docs/architecture.md');
  assert.deepEqual([...rules.keys()].filter((u) => !units.has(u)).sort(), [], 'rows in docs/architecture.md for folders that do not exist');
});

test('every import in src/ is allowed by docs/architecture.md', () => {
  const rules = readRules();
  const wrong = edges()
    .filter((e) => {
      const rule = rules.get(e.from);
      if (rule === undefined) return true;
      return !(rule.values.has(e.to) || (e.typeOnly && rule.types.has(e.to)));
    })
    .map((e) => `${e.where} (${e.from} → ${e.to}${e.typeOnly ? ', types' : ''})`);
  assert.deepEqual(wrong, []);
});

test('the checker sees imports and tells type-only ones apart (it can fail)', () => {
  const all = edges();
  assert.ok(all.some((e) => e.from === 'cli' && e.to === 'dbus' && !e.typeOnly), 'cli → dbus is a value import');
  assert.ok(all.some((e) => e.from === 'rclone' && e.to === 'config' && e.typeOnly), 'rclone → config is types only');
  const rules = readRules();
  assert.ok(!rules.get('rclone')!.values.has('run') && !rules.get('run/rules')!.values.has('state'), 'the pure rows forbid I/O folders');
});

test('every source file docs/architecture.md names exists', () => {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const named = [...new Set([...doc.matchAll(/`(src\/[\w/.-]+\.ts)`/g)].map((m) => m[1]!))];
  assert.ok(named.length > 30, 'the document names the files of a run');
  assert.deepEqual(named.filter((path) => !existsSync(join(ROOT, path))), []);
});
