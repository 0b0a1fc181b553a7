// Which local paths a job's rclone filters leave out (issue 16: a change there must not trigger a watch run). Pure.
// The rules are rclone's: lines `- pattern` / `+ pattern` of a filters file (bisync's --filters-file, read like
// --filter-from), and the `include`, `exclude` and `filter` options, first match wins, and an implicit `- **` for
// files after any include. Globs as rclone reads them: `*` and `?` do not cross `/`, `**` does, `[…]` classes,
// `{a,b}` alternatives, `\x` a literal x; a leading `/` anchors at the root, else the pattern matches the end of the
// path; a trailing `/` matches directories only. A rule we do not model (a `{{regex}}`, `!`, a line without + or -)
// makes every path it could decide count as synced: in doubt, trigger a run. The options are the run's own, merged
// as the argv merges them (global, then per operation, then per job: rclone/args.ts mergedRunOptions), with the
// engine's `- *.partial` filter when the argv adds it: the watch leaves out exactly what the run leaves out, and
// rclone's temporary copies unless an include rule of the user's names them.

import type { GlobalSettings, JobConfig } from '../config/types.js';
import { mergedRunOptions, PARTIAL_FILTER } from './args.js';
import { flagName } from './flags.js';

export interface FilterRule {
  action: 'include' | 'exclude' | 'unknown';
  /** Null for an unknown rule. Tested against `path` for a file and `path/` for a folder. */
  regex: RegExp | null;
  /** Applies to files (not a pattern ending in `/`). */
  files: boolean;
  /** Applies to folders: a pattern ending in `/` or holding `**`; and every include of files, which rclone lets
   * reach the folders that may hold them (taken as every folder: in doubt, a folder is synced). */
  dirs: 'pattern' | 'all' | 'none';
}

export interface FilterRules {
  rules: readonly FilterRule[];
  /** Files no rule matched are excluded (an include rule was given as --include/--include-from). */
  excludeUnmatchedFiles: boolean;
}

/** The glob `pattern` (no leading `+ `/`- `) as rclone's regular expression, or null when it is not one we model. */
export function globToRegExp(pattern: string): RegExp | null {
  if (pattern === '' || pattern.includes('{{')) return null;
  let out = pattern.startsWith('/') ? '^' : '(?:^|/)';
  const body = pattern.startsWith('/') ? pattern.slice(1) : pattern;
  let braces = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined) return null;
      out += escapeChar(next);
      i++;
    } else if (c === '*') {
      if (body[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = body.indexOf(']', i + 2);
      if (end < 0) return null;
      let cls = body.slice(i + 1, end);
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      out += `[${cls.replace(/\\(?!])/g, '\\\\')}]`;
      i = end;
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else out += escapeChar(c);
  }
  if (braces !== 0) return null;
  try {
    return new RegExp(`${out}$`);
  } catch {
    return null;
  }
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

const UNKNOWN: FilterRule = Object.freeze({ action: 'unknown', regex: null, files: true, dirs: 'all' });

function ruleOf(action: 'include' | 'exclude', pattern: string): FilterRule {
  const dirOnly = pattern.endsWith('/');
  // rclone: excluding "dir/" is excluding "dir/**" (the folder and all in it).
  const glob = dirOnly && action === 'exclude' ? `${pattern}**` : pattern;
  const regex = globToRegExp(glob);
  if (!regex) return UNKNOWN;
  const both = glob.includes('**');
  const files = both || !dirOnly;
  const dirs = both || dirOnly ? 'pattern' : action === 'include' ? 'all' : 'none';
  return { action, regex, files, dirs };
}

/** Rules from the text of a filters file (`+ pat`, `- pat`; `#`/`;` comments and blank lines skipped). */
export function rulesFromFilterLines(text: string): FilterRule[] {
  const rules: FilterRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([+-]) (.*)$/.exec(line);
    if (match) rules.push(ruleOf(match[1] === '+' ? 'include' : 'exclude', match[2]!));
    else rules.push(UNKNOWN); // `!` (clear) or a line rclone would refuse
  }
  return rules;
}

/** An option value (a string or a list of them) as a list. */
function listOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map(String);
  return [];
}

export interface FilterSources {
  /** The text of the filters file in force (the job's filters_file, else the global exclusion_rules_file). */
  filtersFileText?: string | undefined;
  /** The run's options merged by flag name (args.ts mergedRunOptions): `include`, `exclude`, `filter`, `*-from`. */
  options?: ReadonlyMap<string, unknown>;
  /** The watch leaves out rclone's temporary copies: `- *.partial` before the user's --filter rules, as the argv adds it. */
  partialFilter?: boolean;
}

/** The filter inputs of a job's bisync runs, from the same merge as its argv (every input the watch's rules depend on).
 * The watch leaves out rclone's temporary copies (`- *.partial`, where the argv puts it) whenever the argv does, and
 * also when the argv leaves its filter out only because an option mentions `.partial` in passing (a path, a
 * suffix, an exclude): only an include rule naming `.partial` makes them count, or every download would be
 * followed by a run for its temporary copy. */
export function runFilterSources(job: JobConfig, global: GlobalSettings, filtersFileText: string | undefined): FilterSources {
  const { merged, partialFilter } = mergedRunOptions({ job, global, operation: 'bisync' });
  return { filtersFileText, options: merged, partialFilter: partialFilter || !includesPartial(merged, filtersFileText) };
}

/** Does an include rule of the user's (the include option, a `+` line of a filter option or of the filters file) name `.partial`? */
function includesPartial(options: ReadonlyMap<string, unknown>, filtersFileText: string | undefined): boolean {
  const plusLines = (text: string): string[] => text.split(/\r?\n/).filter((line) => line.trim().startsWith('+'));
  const includes = [...listOf(options.get(flagName('include'))), ...listOf(options.get(flagName('filter'))).flatMap(plusLines), ...plusLines(filtersFileText ?? '')];
  return includes.some((rule) => rule.includes('.partial'));
}

/** Option keys that name filter files we do not read (treated as unknown rules). */
const UNREAD_FILTER_OPTIONS = ['include_from', 'exclude_from', 'filter_from', 'files_from', 'files_from_raw'];

/** Every option key the watch's rules read. */
const FILTER_OPTIONS = ['include', 'exclude', 'filter', ...UNREAD_FILTER_OPTIONS];

/** The filter options among the run's merged options (flag name, value): the only options the watch depends on. */
export function filterOptionsOf(sources: FilterSources): [string, unknown][] {
  return FILTER_OPTIONS.flatMap((key): [string, unknown][] => {
    const value = sources.options?.get(flagName(key));
    return value === undefined ? [] : [[flagName(key), value]];
  });
}

/** The job's rules in rclone's order: --include, --exclude, --filter, then the filters file. */
export function jobFilterRules(sources: FilterSources): FilterRules {
  const options = sources.options ?? new Map<string, unknown>();
  const option = (key: string): string[] => listOf(options.get(flagName(key)));
  const rules: FilterRule[] = [];
  const includes = option('include');
  for (const p of includes) rules.push(ruleOf('include', p));
  for (const p of option('exclude')) rules.push(ruleOf('exclude', p));
  const filters = sources.partialFilter === true ? [PARTIAL_FILTER, ...option('filter')] : option('filter');
  for (const f of filters) rules.push(...rulesFromFilterLines(f));
  for (const key of UNREAD_FILTER_OPTIONS) if (option(key).length > 0) rules.push(UNKNOWN);
  if (sources.filtersFileText !== undefined) rules.push(...rulesFromFilterLines(sources.filtersFileText));
  return { rules, excludeUnmatchedFiles: includes.length > 0 };
}

/** The first rule that decides a file or a folder: its action ('unknown' for a rule we do not model), or 'none'. */
function decide(rules: readonly FilterRule[], path: string, kind: 'file' | 'dir'): FilterRule['action'] | 'none' {
  for (const rule of rules) {
    if (rule.action === 'unknown') return 'unknown';
    if (kind === 'file' ? !rule.files : rule.dirs === 'none') continue;
    if (kind === 'dir' && rule.dirs === 'all') return rule.action;
    if (rule.regex!.test(kind === 'dir' ? `${path}/` : path)) return rule.action;
  }
  return 'none';
}

function dirExcluded(filters: FilterRules, dir: string): boolean {
  return decide(filters.rules, dir, 'dir') === 'exclude';
}

function fileExcluded(filters: FilterRules, file: string): boolean {
  const d = decide(filters.rules, file, 'file');
  return d === 'exclude' || (d === 'none' && filters.excludeUnmatchedFiles);
}

/**
 * Is the relative POSIX path `rel` (a file or a folder: the watcher cannot tell a gone one) left out by the filters?
 * Yes when a folder above it is excluded, or it is excluded as a file or as a folder.
 */
export function isFilteredOut(filters: FilterRules, rel: string): boolean {
  if (rel === '' || (filters.rules.length === 0 && !filters.excludeUnmatchedFiles)) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) if (dirExcluded(filters, rel.slice(0, i))) return true;
  return fileExcluded(filters, rel) || dirExcluded(filters, rel);
}

/** A predicate for the tree watcher's `ignore`. */
export function filteredOutPredicate(filters: FilterRules): (rel: string) => boolean {
  return (rel) => isFilteredOut(filters, rel);
}
