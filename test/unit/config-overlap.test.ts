// The overlap check finds nested or shared directories by sorting, not by comparing every pair of jobs: these
// tests hold it to the pairwise definition (isWithin both ways) on random trees, and at the config level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/parse.js';
import { directoryKey, isWithin, nestedPairs } from '../../src/config/paths.js';
import { ConfigError } from '../../src/errors.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Directories from a tiny alphabet, so that equal, nested and sibling-prefix paths ("/a" vs "/ab") are common. */
function randomDir(next: () => number): string {
  const depth = Math.floor(next() * 4);
  const parts = Array.from({ length: depth }, () => ['a', 'ab', 'b', 'a b', 'é'][Math.floor(next() * 5)]!);
  return `/${parts.join('/')}`;
}

test('nestedPairs finds exactly the pairs that isWithin finds, for 200 random sets of directories', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = random(seed);
    const dirs = Array.from({ length: 1 + Math.floor(next() * 30) }, () => ({ dir: randomDir(next), owner: Math.floor(next() * 12) }));
    const expected = new Set<string>();
    for (const x of dirs) {
      for (const y of dirs) {
        if (x.owner < y.owner && (isWithin(x.dir, y.dir) || isWithin(y.dir, x.dir))) expected.add(`${x.owner},${y.owner}`);
      }
    }
    const found = new Set(nestedPairs(dirs.map((d) => ({ key: directoryKey(d.dir), owner: d.owner }))).map(([a, b]) => `${a},${b}`));
    assert.deepEqual([...found].sort(), [...expected].sort(), `seed ${seed}: ${JSON.stringify(dirs)}`);
  }
});

test('the config check reports each overlapping pair once, at the later job, naming the earlier one', () => {
  let total = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const next = random(seed);
    const jobs = Array.from({ length: 2 + Math.floor(next() * 15) }, (_, i) => ({
      name: `j${i}`,
      local: randomDir(next).slice(1) || '.',
      remote: next() < 0.5 ? `r:${randomDir(next).slice(1)}` : `s:${randomDir(next)}`,
    }));
    const text = `local_base_path: /base\nsync_jobs:\n${jobs
      .map((j) => `  ${j.name}:\n    local: "${j.local}"\n    rclone_remote: "${j.remote.split(':')[0]!}"\n    remote: "${j.remote.slice(2)}"\n    schedule: "0 * * * *"\n`)
      .join('')}`;
    const abs = (local: string): string => (local === '.' ? '/base' : `/base/${local}`);
    const trim = (remote: string): string => remote.replace(/(?<=[^:/])\/+$/, '');
    const remoteWithin = (a: string, b: string): boolean => {
      const [p, c] = [trim(a), trim(b)];
      return p === c || c.startsWith(p.endsWith(':') || p.endsWith('/') ? p : `${p}/`);
    };
    const expected: string[] = [];
    jobs.forEach((later, j) => {
      for (let i = 0; i < j; i++) {
        const earlier = jobs[i]!;
        const local = isWithin(abs(earlier.local), abs(later.local)) || isWithin(abs(later.local), abs(earlier.local));
        const remote = remoteWithin(earlier.remote, later.remote) || remoteWithin(later.remote, earlier.remote);
        if (local) expected.push(`sync_jobs.${later.name}.local<${earlier.name}`);
        else if (remote) expected.push(`sync_jobs.${later.name}.remote<${earlier.name}`);
      }
    });
    let reported: string[] = [];
    try {
      parseConfig(text, { file: '/c/config.yaml', home: '/home/u' });
    } catch (e: unknown) {
      assert.ok(e instanceof ConfigError, String(e));
      reported = e.issues.map((issue) => `${issue.path}<${/of job "([^"]+)"/.exec(issue.message)?.[1] ?? '?'}`);
    }
    assert.deepEqual(reported.sort(), expected.sort(), `seed ${seed}\n${text}`);
    total += expected.length;
  }
  assert.ok(total > 100, `the random configs overlap often enough to test something (${total} pairs)`);
});
