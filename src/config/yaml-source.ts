// Config text → plain value plus a way to point at any key or value by line and column.
// Checks the bytes first (size, UTF-8), then YAML syntax, duplicate keys and alias bombs.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { ConfigIssue } from '../errors.js';

/** Config files are small; anything bigger is almost certainly the wrong file, and is refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Alias expansions allowed when building the plain value (bounds "billion laughs" documents). */
export const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;
export interface Position {
  line: number;
  col: number;
}

/** Finds where a path lives in the source. `key` points at the last segment's key, `value` at its value. */
export interface Locator {
  at(path: readonly PathSegment[], part: 'key' | 'value'): Position;
}

export const START: Position = Object.freeze({ line: 1, col: 1 });
export const nowhere: Locator = { at: () => START };

/** `issues` on success are problems that do not stop validation (duplicate keys, unknown tags). */
export type SourceResult = { ok: true; value: unknown; locator: Locator; issues: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] };

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** The issue for a file over MAX_CONFIG_BYTES, reported before anything is parsed. */
export function tooBigIssue(file: string, size: number): ConfigIssue {
  return { file, ...START, path: '', message: `the file is ${formatSize(size)}, too big for a config file (expected at most ${formatSize(MAX_CONFIG_BYTES)}; is this the right file?)` };
}

/** Index of the first byte that breaks UTF-8, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let extra: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [extra, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [extra, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [extra, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

/** Text of the file, or the issue that stops us reading it (too big, not UTF-8). */
export function decodeConfigText(input: string | Uint8Array, file: string): { text: string } | { issue: ConfigIssue } {
  // A UTF-16 unit takes 1 to 3 UTF-8 bytes: only encode when the length alone cannot decide.
  const size = typeof input !== 'string' ? input.length : input.length * 3 <= MAX_CONFIG_BYTES ? input.length : new TextEncoder().encode(input).length;
  if (size > MAX_CONFIG_BYTES) return { issue: tooBigIssue(file, size) };
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const bad = firstInvalidUtf8(input);
    if (bad >= 0) {
      const before = input.subarray(0, bad);
      const lineStart = before.lastIndexOf(0x0a) + 1;
      const line = before.reduce((n, b) => (b === 0x0a ? n + 1 : n), 1);
      const col = [...new TextDecoder().decode(input.subarray(lineStart, bad))].length + 1;
      const byte = input[bad]!.toString(16).padStart(2, '0');
      return {
        issue: { file, line, col, path: '', message: `invalid UTF-8 byte 0x${byte} (expected UTF-8 text; convert the file, e.g. iconv -f latin1 -t utf-8)` },
      };
    }
    text = new TextDecoder('utf-8').decode(input);
  }
  return { text: text.startsWith('\ufeff') ? text.slice(1) : text };
}

function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return typeof key.value === 'symbol' ? undefined : String(key.value);
  return undefined;
}

function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol';
}

function deref(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** The pair for `key` in a mapping, looking through `<<` merges (own keys first, like the YAML merge rule). */
function findPair(map: unknown, key: string, doc: Document, depth = 0): Pair | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  for (let i = map.items.length - 1; i >= 0; i--) {
    const pair = map.items[i]!;
    if (keyText(pair) === key) return pair;
  }
  for (const pair of map.items) {
    if (!isMergePair(pair)) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const found = findPair(deref(source, doc), key, doc, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function createLocator(doc: Document, lineCounter: LineCounter): Locator {
  const pos = (offset: number): Position => lineCounter.linePos(offset);
  const start = (node: unknown): number | undefined => {
    const range = (node as YamlNode | null | undefined)?.range;
    return range ? range[0] : undefined;
  };
  return {
    at(path, part) {
      let node: unknown = doc.contents;
      let best = start(node) ?? 0;
      for (let i = 0; i < path.length; i++) {
        const segment = path[i]!;
        node = deref(node, doc);
        const last = i === path.length - 1;
        if (isSeq(node)) {
          node = node.items[Number(segment)];
          best = start(node) ?? best;
          continue;
        }
        const pair = findPair(node, String(segment), doc);
        if (!pair) break;
        const keyStart = start(pair.key);
        const valueStart = start(pair.value);
        if (last && part === 'key') return pos(keyStart ?? best);
        node = pair.value;
        // An empty value (`schedule:`) has no useful position of its own: point at its key.
        const isEmpty = isScalar(node) && node.value === null && node.source === '';
        best = (isEmpty ? keyStart : valueStart) ?? keyStart ?? best;
      }
      return pos(best);
    },
  };
}

/** Duplicate keys anywhere in the document, each located at the second occurrence. */
function duplicateKeyIssues(doc: Document, lineCounter: LineCounter, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      const seen = new Map<string, Pair>();
      for (const pair of node.items) {
        const key = keyText(pair);
        if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
          const at = lineCounter.linePos((pair.key as YamlNode).range?.[0] ?? 0);
          issues.push({ file, ...at, path: path.join('.'), message: 'a key is a list or a mapping (expected a plain name)' });
        }
        if (key !== undefined) {
          const first = seen.get(key);
          if (first) {
            const at = lineCounter.linePos((pair.key as YamlNode).range?.[0] ?? 0);
            const firstLine = lineCounter.linePos((first.key as YamlNode).range?.[0] ?? 0).line;
            const what = path.length === 1 && path[0] === 'sync_jobs' ? 'duplicate job name' : 'duplicate key';
            issues.push({ file, ...at, path: [...path, key].join('.'), message: `${what} "${key}" (expected each name once; it is first used on line ${firstLine})` });
          } else {
            seen.set(key, pair);
          }
        }
        walk(pair.value, key === undefined ? path : [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, String(index)]));
    }
  };
  walk(doc.contents, []);
  return issues;
}

/** Parse config text into a plain value, reporting every YAML-level problem with its position. */
export function readYamlSource(text: string, file: string): SourceResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, merge: true, prettyErrors: false, logLevel: 'error' });
  const at = (offset: number | undefined): Position => lineCounter.linePos(offset ?? 0);
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        path: '',
        message:
          e.code === 'MULTIPLE_DOCS'
            ? 'the file holds more than one YAML document (expected one; remove the --- line)'
            : `invalid YAML: ${e.message} (expected valid YAML; check the indentation and quoting here)`,
      })),
    };
  }
  if (doc.contents === null) {
    return {
      ok: false,
      issues: [{ file, ...START, path: '', message: 'the file is empty (expected at least local_base_path and sync_jobs; start from examples/config.yaml)' }],
    };
  }
  const issues: ConfigIssue[] = doc.warnings.map((w) => ({ file, ...at(w.pos[0]), path: '', message: `${w.message} (expected plain YAML without custom tags)` }));
  issues.push(...duplicateKeyIssues(doc, lineCounter, file));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e: unknown) {
    const message = e instanceof Error ? e.message : String(e);
    issues.push({ file, ...START, path: '', message: `cannot expand the document: ${message} (expected at most ${MAX_ALIAS_COUNT} alias expansions)` });
    return { ok: false, issues };
  }
  return { ok: true, value, locator: createLocator(doc, lineCounter), issues };
}
