// Path rules of the config: `~` expansion, resolution against local_base_path, and containment.
// POSIX paths only (a Linux service); pure: no file system access, no process.cwd().

import { posix } from 'node:path';

export type PathResult = { ok: true; path: string } | { ok: false; message: string };

/** Newlines, NUL and other control characters have no place in a path we hand to rclone. */
export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `~` and `~/x` become the home directory; `~user` is not supported. */
export function expandHome(input: string, home: string | undefined): PathResult {
  if (hasControlChar(input)) return { ok: false, message: `${JSON.stringify(input)} contains a control character (expected a plain path)` };
  if (input !== '~' && !input.startsWith('~/')) return { ok: true, path: input };
  if (input.startsWith('~') && home === undefined) {
    return { ok: false, message: `"${input}" starts with ~ but the home directory is unknown here (expected an absolute path)` };
  }
  return { ok: true, path: `${home}${input.slice(1)}` };
}

function tildeUser(input: string): boolean {
  return input.startsWith('~') && input !== '~' && !input.startsWith('~/');
}

/**
 * `child` is `parent` or inside it. Both are absolute and normalized (no trailing `/` but for the root), so a
 * prefix test is exact; it runs for every pair of jobs in the overlap check, where path.relative was the cost.
 */
export function isWithin(parent: string, child: string): boolean {
  if (parent === child) return true;
  return child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** `dir` with exactly one trailing `/`: then "inside or equal" is a plain prefix test (see nestedPairs). */
export function directoryKey(dir: string): string {
  return dir.endsWith('/') ? dir : `${dir}/`;
}

/**
 * Every pair of entries whose keys are equal or where one is a prefix of the other, as [owner, owner] with the
 * smaller owner first; entries of the same owner are not paired. Sorting puts all keys with a given prefix right
 * after it, so this costs O(n log n) plus the pairs found, where comparing every pair of jobs was quadratic.
 */
export function nestedPairs(entries: readonly { key: string; owner: number }[]): [number, number][] {
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const pairs: [number, number][] = [];
  for (let k = 0; k < sorted.length; k++) {
    const outer = sorted[k]!;
    for (let m = k + 1; m < sorted.length && sorted[m]!.key.startsWith(outer.key); m++) {
      const inner = sorted[m]!;
      if (inner.owner !== outer.owner) pairs.push(inner.owner < outer.owner ? [inner.owner, outer.owner] : [outer.owner, inner.owner]);
    }
  }
  return pairs;
}

/** An absolute directory from an absolute or `~` path: local_base_path and a local Path2. */
export function resolveAbsolute(input: string, home: string | undefined, expected: string): PathResult {
  if (tildeUser(input)) return { ok: false, message: `"${input}": ~user paths are not supported (expected ${expected})` };
  const expanded = expandHome(input, home);
  if (!expanded.ok) return expanded;
  if (!posix.isAbsolute(expanded.path)) return { ok: false, message: `"${input}" is not an absolute path (expected ${expected})` };
  return { ok: true, path: posix.normalize(expanded.path).replace(/(.)\/$/, '$1') };
}

/** A job's `local`: relative to `base`, or absolute / `~` but still inside `base`. */
export function resolveInside(base: string, input: string, home: string | undefined): PathResult {
  if (tildeUser(input)) return { ok: false, message: `"${input}": ~user paths are not supported (expected a directory under ${base})` };
  const expanded = expandHome(input, home);
  if (!expanded.ok) return expanded;
  const absolute = posix.isAbsolute(expanded.path);
  const resolved = posix.resolve(base, expanded.path).replace(/(.)\/$/, '$1');
  if (isWithin(base, resolved)) return { ok: true, path: resolved };
  const why = absolute ? `${resolved} is outside local_base_path ${base}` : `"${input}" escapes local_base_path ${base} (resolves to ${resolved})`;
  return { ok: false, message: `${why} (expected a directory under ${base})` };
}

/** A file named in the config: absolute, `~/…`, or relative to the config file's directory. */
export function resolveConfigFile(input: string, configDir: string, home: string | undefined): PathResult {
  if (tildeUser(input)) return { ok: false, message: `"${input}": ~user paths are not supported (expected an absolute path or one relative to the config file)` };
  const expanded = expandHome(input, home);
  if (!expanded.ok) return expanded;
  const resolved = posix.isAbsolute(expanded.path) ? posix.normalize(expanded.path) : posix.join(configDir, expanded.path);
  if (!posix.isAbsolute(resolved)) {
    return { ok: false, message: `"${input}" cannot be resolved: the config file's directory is not known (expected an absolute path)` };
  }
  return { ok: true, path: resolved };
}
