// Seeded fuzzing for the hardening suite: a small PRNG, config-text mutations (byte flips, key deletions and
// duplications, type swaps, deep nesting, huge values, unicode, alias bombs) and random D-Bus values for a signature.
import * as dbus from 'dbus-next';

export interface Rng {
  /** [0, 1) */
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number): number => Math.floor(next() * max);
  return { next, int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p };
}

// ---------------------------------------------------------------------------------------------
// Config text mutations

const ODD_VALUES = [
  '[1, 2]', '{a: 1}', 'true', 'null', '~', '12345678901234567890123', '-1', '0x1F', '"str"', '!!binary aGVsbG8=', '*nowhere', '&a x',
  '.inf', '.nan', '2024-01-01', '"\\u0000"', '[[[[[]]]]]', '""', "'-rf'", '"../../../etc"', '!!js/function "x"', '? complex', '|\n  block', '0o777', '1e400',
];
const UNICODE = ['\uFEFF', '\u202E', '😀', '\u0000', '\uD800', 'e\u0301', '：', '\u00A0', '\u2028', '\t', '\r', 'ß', '日本', '\u0085', '\uFFFF'];

export type Mutation = (text: string, rng: Rng) => string | Buffer;

function lines(text: string): string[] {
  return text.split('\n');
}

/** Lines that hold a key (`key:` outside comments). */
function keyLines(all: string[]): number[] {
  return all.flatMap((l, i) => (/^\s*[\w-]+\s*:/.test(l) ? [i] : []));
}

/** Sizes of the expensive mutations: `large` (long mode) goes up to 3000 levels and 1.1 MB values (beyond the 1 MiB limit). */
export function configMutations(large: boolean): Record<string, Mutation> {
  return {
    byteFlip(text, rng) {
      const buf = Buffer.from(text, 'utf8');
      for (let n = 1 + rng.int(4); n > 0 && buf.length > 0; n--) buf[rng.int(buf.length)] = rng.int(256);
      return buf;
    },
    deleteKey(text, rng) {
      const all = lines(text);
      const keys = keyLines(all);
      if (keys.length > 0) all.splice(rng.pick(keys), 1);
      return all.join('\n');
    },
    duplicateKey(text, rng) {
      const all = lines(text);
      const keys = keyLines(all);
      if (keys.length > 0) {
        const i = rng.pick(keys);
        all.splice(i + rng.int(3), 0, all[i]!);
      }
      return all.join('\n');
    },
    typeSwap(text, rng) {
      const all = lines(text);
      const keys = keyLines(all);
      if (keys.length > 0) {
        const i = rng.pick(keys);
        all[i] = all[i]!.replace(/:.*$/, `: ${rng.pick(ODD_VALUES)}`);
      }
      return all.join('\n');
    },
    deepNesting(text, rng) {
      const all = lines(text);
      const keys = keyLines(all);
      const depth = 20 + rng.int(large ? 3000 : 200);
      const nested = rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
      const i = keys.length > 0 ? rng.pick(keys) : 0;
      all[i] = (all[i] ?? '').replace(/:.*$/, `: ${nested}`);
      return all.join('\n');
    },
    hugeValue(text, rng) {
      const all = lines(text);
      const keys = keyLines(all);
      const size = rng.pick(large ? [10_000, 100_000, 600_000, 1_100_000] : [1000, 10_000, 100_000]);
      const i = keys.length > 0 ? rng.pick(keys) : 0;
      all[i] = (all[i] ?? '').replace(/:.*$/, `: "${'x'.repeat(size)}"`);
      return all.join('\n');
    },
    unicode(text, rng) {
      let out = text;
      for (let n = 1 + rng.int(3); n > 0; n--) {
        const at = rng.int(out.length + 1);
        out = out.slice(0, at) + rng.pick(UNICODE) + out.slice(at);
      }
      return out;
    },
    indent(text, rng) {
      const all = lines(text);
      const i = rng.int(all.length);
      all[i] = rng.pick(['\t', ' ', '   ', '']) + all[i]!.trimStart();
      return all.join('\n');
    },
    aliasBomb(text) {
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, k) => `${String.fromCharCode(98 + k)}: &${String.fromCharCode(98 + k)} [*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)},*${String.fromCharCode(97 + k)}]`)];
      return `${bomb.join('\n')}\n${text}`;
    },
    truncate(text, rng) {
      return text.slice(0, rng.int(text.length));
    },
    crlf(text) {
      return text.replace(/\n/g, '\r\n');
    },
    junkDocument(_text, rng) {
      return rng.pick(['', '---\n---\n', '- a\n- b\n', '42', 'null', '"just a string"', '{', '%YAML 1.1\n---\nx: 1', '!!set {a, b}', '\0\0\0']);
    },
  };
}

/** 1–3 random mutations of `base`. */
export function mutateConfig(base: string, rng: Rng, large = false): { text: string | Buffer; applied: string[] } {
  const mutations = configMutations(large);
  const names = Object.keys(mutations);
  let text: string | Buffer = base;
  const applied: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const name = rng.pick(names);
    applied.push(name);
    text = mutations[name]!(typeof text === 'string' ? text : text.toString('utf8'), rng);
  }
  return { text, applied };
}

// ---------------------------------------------------------------------------------------------
// Random D-Bus values

const TYPES = ['s', 'u', 'i', 't', 'x', 'b', 'd', 'y', 'n', 'q', 'o', 'g', 'v', 'as', 'a{sv}', 'a{ss}', 'aa{sv}', '(ss)', 'ay', 'av', 'a(ssso)', 'at'];

export function randomSignature(rng: Rng): string {
  return Array.from({ length: rng.int(4) }, () => rng.pick(TYPES)).join('');
}

const NAMES = ['fuzz', 'photos', '', 'x'.repeat(65), '../etc', '-rf', 'a b', 'ümlaut', '日本', '$(rm -rf ~)', "it's", 'job\n2', '\u202e'];

/** A random string; `small` (inside containers) keeps it short so one message stays far below the bus limits. */
export function randomString(rng: Rng, known: readonly string[] = [], small = false): string {
  switch (rng.int(6)) {
    case 0:
      return rng.pick([...NAMES, ...known]);
    case 1:
      return 'x'.repeat(rng.pick(small ? [0, 1, 100] : [0, 1, 1000, 70_000, 200_000]));
    case 2:
      return Array.from({ length: rng.int(40) }, () => String.fromCodePoint(1 + rng.int(0x2ffff))).join('').replace(/[\uD800-\uDFFF]/g, '?');
    case 3:
      return rng.pick(['dry_run', 'resync', 'force', 'local', 'remote', 'schedule', 'rclone_options', '__proto__', 'constructor', 'trigger']);
    default:
      return rng.pick(known.length > 0 ? known : NAMES);
  }
}

/**
 * A random value of one complete D-Bus type from TYPES. Only the outermost value may be big (200 kB strings,
 * 5000-element lists, 3000-key dicts); values inside containers are small, so no message nears the bus's limits.
 */
export function randomValue(type: string, rng: Rng, known: readonly string[], depth = 0): unknown {
  const small = depth > 0;
  const inner = (t: string): unknown => randomValue(t, rng, known, depth + 1);
  switch (type) {
    case 's':
      return randomString(rng, known, small);
    case 'o':
      return rng.pick(['/', '/io/github/rbmanager/RcloneBisyncManager1', '/io/github/rbmanager/RcloneBisyncManager1/job/fuzz', '/a/b_c']);
    case 'g':
      return rng.pick(['', 's', 'a{sv}', 'asa{sv}']);
    case 'u':
    case 'q':
    case 'y':
      return rng.pick([0, 1, 5, 255, type === 'u' ? 0xffffffff : type === 'q' ? 0xffff : 255]);
    case 'i':
    case 'n':
      return rng.pick([0, -1, 1, 7, type === 'i' ? -0x80000000 : -0x8000]);
    case 't':
      return rng.pick([0n, 1n, 2n ** 64n - 1n, 1234567890123n]);
    case 'x':
      // dbus-next refuses to marshal -2^63 itself ("less than min int64"), asynchronously: stay one above it.
      return rng.pick([0n, -1n, -(2n ** 63n) + 1n, 2n ** 63n - 1n]);
    case 'b':
      return rng.chance(0.5);
    case 'd':
      return rng.pick([0, -1.5, 1e308, Number.NaN, Number.POSITIVE_INFINITY]);
    case 'v': {
      const t = depth > 3 ? 's' : rng.pick(TYPES);
      return new dbus.Variant(t, inner(t));
    }
    case 'as':
      return Array.from({ length: rng.pick(small ? [0, 1, 3] : [0, 1, 2, 5, 1001, 5000]) }, () => inner('s'));
    case 'at':
      return Array.from({ length: rng.int(5) }, () => BigInt(rng.int(1000)));
    case 'ay':
      return Buffer.from(Array.from({ length: rng.pick(small ? [0, 3] : [0, 3, 100_000]) }, () => rng.int(256)));
    case 'av':
      return Array.from({ length: rng.int(4) }, () => inner('v'));
    case 'a{sv}':
    case 'a{ss}': {
      const out: Record<string, unknown> = {};
      for (let n = rng.pick(small ? [0, 1, 2] : [0, 1, 2, 3, 3000]); n > 0; n--) out[n > 5 ? `k${n}` : randomString(rng, known, true)] = inner(type === 'a{ss}' ? 's' : 'v');
      return out;
    }
    case 'aa{sv}':
      return Array.from({ length: rng.int(3) }, () => inner('a{sv}'));
    case '(ss)':
      return [inner('s'), inner('s')];
    case 'a(ssso)':
      return Array.from({ length: rng.int(3) }, () => [inner('s'), inner('s'), inner('s'), inner('o')]);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** Split a signature built from TYPES back into its complete types. */
export function splitSignature(signature: string): string[] {
  const out: string[] = [];
  let rest = signature;
  while (rest.length > 0) {
    const type = [...TYPES].sort((a, b) => b.length - a.length).find((t) => rest.startsWith(t));
    if (!type) throw new Error(`cannot split ${signature}`);
    out.push(type);
    rest = rest.slice(type.length);
  }
  return out;
}
