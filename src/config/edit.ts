// Adding and removing a job in the user's config text without disturbing anything else:
// the yaml Document API finds the exact spans, and the text is spliced there, so every other comment,
// blank line and alignment stays byte for byte. Plus an atomic file write that keeps the file's mode.

import { randomBytes } from 'node:crypto';
import { chmod, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import { RbmError } from '../errors.js';
import { parseJobName } from '../api/requests.js';

function parseForEdit(text: string): Document {
  const doc = parseDocument(text, { uniqueKeys: false, merge: true });
  if (doc.errors.length > 0) {
    throw new RbmError('InvalidConfig', `the config file is not valid YAML: ${doc.errors[0]?.message ?? ''}`, {
      hint: 'Fix it (rbmctl check-config shows where) before adding or removing jobs.',
    });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new RbmError('InvalidConfig', 'the config file is not a YAML mapping', { hint: 'Fix it (rbmctl check-config shows where).' });
  }
  return doc;
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value !== 'symbol' ? String(pair.key.value) : undefined;
}

function findPair(node: unknown, key: string): Pair | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((pair) => keyOf(pair) === key);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the newline of the line holding `offset - 1` (the end of a node). */
function lineEndAfter(text: string, offset: number): number {
  const newline = text.indexOf('\n', Math.max(0, offset - 1));
  return newline === -1 ? text.length : newline + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** Indentation step the file uses (the first nested block key), 2 when it has none. */
function indentStep(text: string): number {
  const match = /^[^\s#][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( +)[^\s#-]/m.exec(text);
  const width = match?.[1]?.length ?? 2;
  return width >= 1 && width <= 8 ? width : 2;
}

/** Offset after a mapping entry: its value, then any comment lines indented under its key. */
function entryEnd(text: string, pair: Pair, indent: number): number {
  const keyRange = (pair.key as YamlNode).range;
  const valueEnd = (pair.value as YamlNode | null)?.range?.[1] ?? keyRange?.[1] ?? 0;
  let to = lineEndAfter(text, valueEnd);
  while (to < text.length) {
    const next = lineEndAfter(text, to + 1);
    const line = text.slice(to, next).replace(/\n$/, '');
    const lead = line.search(/\S/);
    if (lead <= indent || line[lead] !== '#') break;
    to = next;
  }
  return to;
}

function renderJob(name: string, definition: Readonly<Record<string, unknown>>, indent: number, step: number): string {
  const body = stringify({ [name]: definition }, { indent: step, lineWidth: 0 });
  const pad = ' '.repeat(indent);
  return body
    .split('\n')
    .filter((line, i, all) => !(i === all.length - 1 && line === ''))
    .map((line) => (line === '' ? line : pad + line))
    .join('\n')
    .concat('\n');
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/** The config text with job `name` appended to sync_jobs (created if needed). Throws JobExists if it is there. */
export function addJobToConfigText(text: string, name: string, definition: Readonly<Record<string, unknown>>): string {
  // The name becomes a key of the user's file: never write one the config parser would refuse.
  parseJobName(name, 'name');
  const doc = parseForEdit(text);
  const step = indentStep(text);
  const jobsPair = findPair(doc.contents, 'sync_jobs');
  const jobs = jobsPair?.value;
  if (findPair(jobs, name)) {
    throw new RbmError('JobExists', `job "${name}" already exists in the config file`, { hint: 'Pick another name, or remove the existing job first.' });
  }
  if (jobsPair === undefined) {
    return `${withNewline(text)}sync_jobs:\n${renderJob(name, definition, step, step)}`;
  }
  const keyNode = jobsPair.key as YamlNode;
  const keyStart = keyNode.range?.[0] ?? 0;
  const keyIndent = columnOf(text, keyStart);
  const emptyValue = jobs === null || jobs === undefined || (isScalar(jobs) && jobs.value === null);
  if (emptyValue) {
    // `sync_jobs:` with nothing (or only comments) after it: the job goes right under the key.
    const at = lineEndAfter(text, (keyNode.range?.[1] ?? keyStart) + 1);
    const prefix = at === text.length ? withNewline(text) : text.slice(0, at);
    return prefix + renderJob(name, definition, keyIndent + step, step) + text.slice(at);
  }
  if (isMap(jobs) && !jobs.flow && jobs.items.length > 0) {
    const first = jobs.items[0]!.key as YamlNode;
    const indent = columnOf(text, first.range?.[0] ?? 0);
    const at = entryEnd(text, jobs.items[jobs.items.length - 1]!, indent);
    const prefix = at === text.length ? withNewline(text) : text.slice(0, at);
    return prefix + renderJob(name, definition, indent, step) + text.slice(at);
  }
  if (isMap(jobs) && jobs.flow && jobs.items.length === 0 && jobs.range) {
    // `sync_jobs: {}` becomes a block mapping holding the job.
    const [start, end] = jobs.range;
    const rest = text.slice(end).replace(/^[ \t]*/, '');
    const tail = rest.startsWith('\n') || rest === '' ? rest.replace(/^\n?/, '') : `${rest}`;
    return `${text.slice(0, start).replace(/[ \t]+$/, '')}\n${renderJob(name, definition, keyIndent + step, step)}${tail}`;
  }
  // A non-empty flow mapping: let the Document API rewrite it (comments survive, alignment may not).
  doc.setIn(['sync_jobs', name], doc.createNode(definition));
  return doc.toString({ lineWidth: 0, indent: step });
}

/** The config text without job `name`, along with the comment lines directly above it. Throws NoSuchJob if absent. */
export function removeJobFromConfigText(text: string, name: string): string {
  parseJobName(name, 'name');
  const doc = parseForEdit(text);
  const jobs = findPair(doc.contents, 'sync_jobs')?.value;
  const pair = findPair(jobs, name);
  if (pair === undefined || !isMap(jobs)) {
    throw new RbmError('NoSuchJob', `job "${name}" is not in the config file`, { hint: 'rbmctl jobs lists the configured jobs.' });
  }
  if (jobs.flow) {
    doc.deleteIn(['sync_jobs', name]);
    return doc.toString({ lineWidth: 0, indent: indentStep(text) });
  }
  const keyStart = (pair.key as YamlNode).range?.[0] ?? 0;
  const indent = columnOf(text, keyStart);
  let from = lineStart(text, keyStart);
  // Comment lines right above the job (no blank line between) describe it: they go too.
  for (;;) {
    if (from === 0) break;
    const prev = lineStart(text, from - 1);
    const line = text.slice(prev, from - 1);
    if (!/^\s*#/.test(line) || columnOf(text, prev + line.search(/\S/)) !== indent) break;
    from = prev;
  }
  let to = entryEnd(text, pair, indent);
  // Keep a single blank line where the job was framed by blank lines on both sides.
  const blankBefore = from === 0 || /\n[ \t]*\n$/.test(text.slice(0, from)) || /^[ \t]*\n$/.test(text.slice(lineStart(text, from - 1), from));
  const blankAfter = /^[ \t]*\n/.exec(text.slice(to));
  if (blankBefore && blankAfter) to += blankAfter[0].length;
  return text.slice(0, from) + text.slice(to);
}

/**
 * Replace the file at `path` with `text` atomically: write a temporary file in the same directory, fsync,
 * rename over the target (a symlinked config is followed, not replaced). New files get mode 0600;
 * existing files keep their mode.
 */
export async function writeConfigAtomic(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const mode = await stat(target).then(
    (info) => info.mode & 0o7777,
    () => 0o600,
  );
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
    await chmod(temp, mode);
    await rename(temp, target);
  } catch (e: unknown) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  const dir = await open(dirname(target), 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}
