// Pure rules for repairing what an interrupted or failed run left behind: which destination files are rclone's
// half-written leftovers, and how rclone's listings (`- <size> <hash> - <time> "<name>"`) are read and rewritten so
// that 1.60 does not call files the run had already copied completely "changed on both sides".

/** What a listing or `rclone lsjson` says about one file. */
export interface FileFacts {
  size: number;
  /** `md5:<hex>` as in a listing, or '-' when unknown. */
  hash: string;
  /** Listing time format: `2006-01-02T15:04:05.000000000+0000`. */
  time: string;
}

export interface Listing {
  header: string;
  /** Entry lines by file name, as read (unparseable lines are kept verbatim under their raw text). */
  lines: Map<string, string>;
  entries: Map<string, FileFacts>;
}

const ENTRY = /^(\S) +(\d+) (\S+) (\S+) (\S+) (".*")$/;

/** A file name as Go's %q writes it, undefined when JSON quoting might differ (control or non-printing characters). */
export function goQuote(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u00ad\u2028\u2029\ufeff]/.test(name)) return undefined;
  return JSON.stringify(name);
}

export function parseListing(text: string): Listing {
  const lines = text.split('\n');
  const header = lines[0]?.startsWith('#') ? lines[0] : '# bisync listing v1';
  const listing: Listing = { header, lines: new Map(), entries: new Map() };
  for (const line of lines.slice(header === lines[0] ? 1 : 0)) {
    if (line === '') continue;
    const m = ENTRY.exec(line);
    let name: string | undefined;
    try {
      name = m?.[6] !== undefined ? (JSON.parse(m[6]) as string) : undefined;
    } catch {
      name = undefined;
    }
    if (m === null || name === undefined) {
      listing.lines.set(`\u0000raw:${line}`, line);
      continue;
    }
    listing.lines.set(name, line);
    listing.entries.set(name, { size: Number(m[2]), hash: m[3] ?? '-', time: m[5] ?? '' });
  }
  return listing;
}

export function formatEntry(name: string, facts: FileFacts): string | undefined {
  const quoted = goQuote(name);
  if (quoted === undefined) return undefined;
  return `- ${String(facts.size).padStart(8)} ${facts.hash} - ${facts.time} ${quoted}`;
}

export function formatListing(listing: Listing): string {
  const names = [...listing.lines.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [listing.header, ...names.map((n) => listing.lines.get(n) ?? '')].join('\n') + '\n';
}

/** `rclone lsjson` ModTime (RFC 3339, any offset, 0–9 fraction digits) in the listing's UTC format, undefined if unreadable. */
export function listingTime(modTime: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(modTime);
  if (!m?.[1] || !m[3]) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(seconds)) return undefined;
  const utc = new Date(seconds).toISOString().slice(0, 19);
  return `${utc}.${(m[2] ?? '').padEnd(9, '0')}+0000`;
}

/** Whether the listing stores md5 hashes (1.60 does for local; '-' elsewhere). An empty listing: md5. */
export function listingUsesMd5(listing: Listing): boolean {
  const first = listing.entries.values().next();
  return first.done === true || first.value.hash.startsWith('md5:');
}

function sameFacts(a: FileFacts | undefined, b: FileFacts): boolean {
  return a !== undefined && a.size === b.size && a.time === b.time && a.hash === b.hash;
}

export interface ReconcileInput {
  path1: Listing;
  path2: Listing;
  /** Current facts per side, with `hash` = `md5:<hex>` when known. */
  now1: ReadonlyMap<string, FileFacts>;
  now2: ReadonlyMap<string, FileFacts>;
  /** Only these names (the interrupted run's copies); undefined = every name. */
  candidates: ReadonlySet<string> | undefined;
}

/**
 * Files the interrupted run copied completely are now identical on both sides but differ from the listings, which
 * 1.60 reports as "changed on both sides" and renames. Their entries are set to today's facts on both sides.
 * Only files present on BOTH sides with the same size and the same md5 are touched: a delete (a file missing on
 * one side) and a real edit (content differs) stay exactly as the listings see them.
 */
export function reconcileIdenticalFiles(input: ReconcileInput): string[] {
  const changed: string[] = [];
  const md5on1 = listingUsesMd5(input.path1);
  const md5on2 = listingUsesMd5(input.path2);
  for (const [name, f1] of input.now1) {
    if (input.candidates !== undefined && !input.candidates.has(name)) continue;
    const f2 = input.now2.get(name);
    if (f2 === undefined || f1.size !== f2.size || !f1.hash.startsWith('md5:') || f1.hash !== f2.hash) continue;
    const want1 = { ...f1, hash: md5on1 ? f1.hash : '-' };
    const want2 = { ...f2, hash: md5on2 ? f2.hash : '-' };
    if (sameFacts(input.path1.entries.get(name), want1) && sameFacts(input.path2.entries.get(name), want2)) continue;
    const line1 = formatEntry(name, want1);
    const line2 = formatEntry(name, want2);
    if (line1 === undefined || line2 === undefined) continue; // a name we cannot quote exactly: leave it to rclone
    input.path1.lines.set(name, line1);
    input.path1.entries.set(name, want1);
    input.path2.lines.set(name, line2);
    input.path2.entries.set(name, want2);
    changed.push(name);
  }
  return changed;
}

/** The path of `full` (as rclone printed it) relative to the root `root`, undefined when it is not under it. */
export function relativeToRoot(root: string, full: string): string | undefined {
  const base = root.endsWith(':') || root.endsWith('/') ? root : `${root}/`;
  const rel = full.startsWith(base) ? full.slice(base.length) : undefined;
  return rel === undefined || rel === '' ? undefined : rel;
}

/** rclone (1.64+) writes a copy to `<name>.<8 hex>.partial` beside its final name and renames it when complete. */
export function isPartialOf(candidate: string, rel: string): boolean {
  if (!candidate.startsWith(rel + '.')) return false;
  return /^\.[0-9a-f]{8}\.partial$/.test(candidate.slice(rel.length));
}

export interface LeftoverFacts {
  /** The destination as it is now (undefined: absent). */
  dst: { size: number; mtimeMs: number } | undefined;
  /** The source the copy read from (undefined: absent). */
  src: { size: number } | undefined;
  /** The destination in the trusted listing from before the run (undefined: not listed). */
  listed: FileFacts | undefined;
  /** When the interrupted run started. */
  runStartedMs: number;
  /** The destination holds exactly the first dst.size bytes of the source: true/false when checked, undefined when it could not be. */
  prefixMatches: boolean | undefined;
}

/**
 * A destination rclone was writing in place (1.60) and did not finish: shorter than its source, written since the
 * run started, not what the trusted listing recorded, and (where it could be checked) a prefix of the source.
 * Removing it is safe for bisync: the other side holds the version the run was copying, which is new or changed
 * relative to the listing, so the next run copies it again (changed-vs-deleted keeps the changed file).
 */
export function isTruncatedCopy(f: LeftoverFacts): boolean {
  if (f.dst === undefined || f.src === undefined) return false;
  if (f.dst.size >= f.src.size) return false;
  if (f.listed !== undefined && f.listed.size === f.dst.size) return false; // the old version, untouched
  if (f.dst.mtimeMs + 1000 < f.runStartedMs) return false; // not written by the run (1 s: second-precision remotes)
  return f.prefixMatches !== false;
}
