// Object-path escaping (sd_bus_path_encode rules) and strict reading of incoming a{sv} dicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dbus from 'dbus-next';
import { escapePathElement, jobNameFromPath, jobObjectPath, unescapePathElement } from '../../src/dbus/contract.js';
import { readJobDefinition, readRunRequest, unwrapVariants, toVariantDict, msToUsec } from '../../src/dbus/variants.js';
import { readJobName, readJobNames } from '../../src/dbus/server.js';
import { RbmError } from '../../src/errors.js';

const V = (sig: string, value: unknown) => new dbus.Variant(sig, value);

test('path elements are escaped like sd_bus_path_encode and round-trip', () => {
  assert.equal(escapePathElement('my-photos.2024'), 'my_2dphotos_2e2024');
  assert.equal(escapePathElement('dbus.service'), 'dbus_2eservice');
  assert.equal(escapePathElement('2024'), '_32024');
  assert.equal(escapePathElement(''), '_');
  assert.equal(escapePathElement('a_b'), 'a_5fb');
  assert.equal(escapePathElement('ü'), '_c3_bc');
  for (const name of ['photos', 'my-photos.2024', '2024', '', 'a_b', 'ü/x', 'A-Z_0.9']) {
    assert.equal(unescapePathElement(escapePathElement(name)), name);
    assert.equal(jobNameFromPath(jobObjectPath(name)), name);
  }
  assert.equal(unescapePathElement('_41'), undefined, 'non-canonical spelling');
  assert.equal(unescapePathElement('a_zz'), undefined);
  assert.equal(jobNameFromPath('/io/github/rbmanager/RcloneBisyncManager1/job/a/b'), undefined);
  assert.equal(jobNameFromPath('/other/job/a'), undefined);
});

function invalidArgs(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof RbmError && e.code === 'InvalidArgs' && message.test(e.message));
}

test('run options: known keys with the right types only', () => {
  assert.deepEqual(readRunRequest({ dry_run: V('b', true), force: V('b', false) }, 'options'), { trigger: 'manual', dryRun: true });
  assert.deepEqual(readRunRequest({}, 'options'), { trigger: 'manual' });
  invalidArgs(() => readRunRequest({ dry_run: V('s', 'true') }, 'options'), /^options\.dry_run: expected type 'b' \(boolean\), got 's'$/);
  invalidArgs(() => readRunRequest({ dryrun: V('b', true) }, 'options'), /^options: unknown key "dryrun" \(known keys: resync, force, dry_run, respect_conditions\)$/);
  assert.deepEqual(readRunRequest({ respect_conditions: V('b', true) }, 'options'), { trigger: 'manual', respectConditions: true });
  invalidArgs(() => readRunRequest({ respect_conditions: V('s', 'yes') }, 'options'), /^options\.respect_conditions: expected type 'b' \(boolean\), got 's'$/);
  invalidArgs(() => readRunRequest({ resync: true }, 'options'), /options\.resync: expected a variant/);
  const poisoned: Record<string, unknown> = {};
  Object.setPrototypeOf(poisoned, V('b', true));
  invalidArgs(() => readRunRequest(poisoned, 'options'), /__proto__/);
});

test('job definitions: typed keys, option maps, bounded strings', () => {
  assert.deepEqual(
    readJobDefinition({ local: V('s', '/a'), active: V('b', false), rclone_options: V('a{sv}', { 'max-delete': V('u', 5), exclude: V('as', ['*.tmp']), fast: V('b', true), big: V('t', 10n) }) }, 'definition'),
    { local: '/a', active: false, rclone_options: { 'max-delete': 5, exclude: ['*.tmp'], fast: true, big: 10 } },
  );
  invalidArgs(() => readJobDefinition({ local: V('s', 'x'.repeat(5000)) }, 'definition'), /definition\.local: string too long \(5000 characters/);
  invalidArgs(() => readJobDefinition({ rclone_options: V('a{sv}', { x: V('a{sv}', {}) }) }, 'definition'), /definition\.rclone_options\.x: expected one of/);
  invalidArgs(() => readJobDefinition({ path1: V('s', '/a') }, 'definition'), /unknown key "path1"/);
});

test('job names: the config charset, bounded, duplicates dropped', () => {
  assert.equal(readJobName('my-photos.2024', 'name'), 'my-photos.2024');
  invalidArgs(() => readJobName('../etc', 'name'), /^name: invalid job name "\.\.\/etc"/);
  invalidArgs(() => readJobName('x'.repeat(300), 'name'), /too long \(300 characters/);
  invalidArgs(() => readJobName('ph\u00f6tos', 'name'), /invalid job name/);
  invalidArgs(() => readJobName('', 'name'), /invalid job name ""/);
  assert.deepEqual(readJobNames(['a', 'b', 'a'], 'jobs'), ['a', 'b']);
  invalidArgs(() => readJobNames(Array.from({ length: 5000 }, (_, i) => `j${i}`), 'jobs'), /too many job names \(5000, at most 1000\)/);
  invalidArgs(() => readJobNames(['ok', 'no way'], 'jobs'), /^jobs\[1\]: invalid job name "no way"/);
});

test('client-side conversions: variants unwrap, plain values wrap, times in µs', () => {
  assert.deepEqual(unwrapVariants({ a: V('t', 5n), b: V('aa{sv}', [{ c: V('s', 'x') }]) }), { a: 5n, b: [{ c: 'x' }] });
  const dict = toVariantDict({ s: 'x', b: true, n: 5, neg: -1, f: 1.5, list: ['a'], nested: { x: 1 }, skip: undefined });
  assert.deepEqual(Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.signature])), { s: 's', b: 'b', n: 'u', neg: 'x', f: 'd', list: 'as', nested: 'a{sv}' });
  assert.equal(msToUsec(0), 0n);
  assert.equal(msToUsec(1_700_000_000_123), 1_700_000_000_123_000n);
});
