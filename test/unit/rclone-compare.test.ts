// The checksum compare decision (src/rclone/compare.ts) and its flag in the argv (src/rclone/args.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRunArgv } from '../../src/rclone/args.js';
import { CHECKSUM_COMPARE, checksumNote, checksumSupport, listingHashed, modtimesTellEditsApart, parseFeatureHashes, parseFeaturePrecision, planCompare, showsFineTimes } from '../../src/rclone/compare.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const on = makeJob({ checksumCompare: true });

test('support: rclone >= 1.66 with a hash in common; otherwise the reason', () => {
  assert.deepEqual(checksumSupport(on, CAPS_175, ['md5', 'sha1'], false), { ok: true });
  assert.deepEqual(checksumSupport(on, CAPS_175, 'all', false), { ok: true });
  assert.deepEqual(checksumSupport(on, CAPS_175, [], false), { ok: false, reason: 'no-common-hash' });
  assert.deepEqual(checksumSupport(on, CAPS_175, undefined, false), { ok: false, reason: 'unknown-hashes' });
  assert.deepEqual(checksumSupport(on, CAPS_160, 'all', false), { ok: false, reason: 'rclone-too-old' });
  assert.deepEqual(checksumSupport(makeJob({ checksumCompare: false }), CAPS_175, 'all', false), { ok: false, reason: 'off' });
  assert.deepEqual(checksumSupport(on, CAPS_175, 'all', true), { ok: false, reason: 'user-compare' });
});

test('plan: checksums from the first resync on; hash-less listings switch over with a settling run', () => {
  const yes = { ok: true } as const;
  assert.deepEqual(planCompare(yes, 'resync', 'none', false), { compare: CHECKSUM_COMPARE, settle: false });
  assert.deepEqual(planCompare(yes, 'resync', 'unhashed', false), { compare: CHECKSUM_COMPARE, settle: false });
  assert.deepEqual(planCompare(yes, 'bisync', 'hashed', false), { compare: CHECKSUM_COMPARE, settle: false });
  assert.deepEqual(planCompare(yes, 'bisync', 'unhashed', false), { compare: undefined, settle: true });
  assert.deepEqual(planCompare(yes, 'bisync', 'unhashed', true), { compare: undefined, settle: false }, 'a dry run never settles');
  assert.deepEqual(planCompare({ ok: false, reason: 'rclone-too-old' }, 'resync', 'none', false), { compare: undefined, settle: false });
});

test('listings: every file line needs a hash; headers and directories do not count', () => {
  const hashed = '# bisync listing v1 from 2026-12-04T21:47:10Z\n-       13 md5:5be6c5adf48ffaba115943a9400786e5 - 2026-12-04T21:47:09.000000000+0000 "a b.txt"\nd        0 - - 2026-12-04T21:47:09.000000000+0000 "dir"\n';
  assert.equal(listingHashed(hashed), true);
  assert.equal(listingHashed(`${hashed}-       13 - - 2026-12-04T21:47:09.000000000+0000 "c.txt"\n`), false);
  assert.equal(listingHashed('# bisync listing v1 from 2026-12-04T21:47:10Z\n'), true);
  assert.equal(listingHashed(`${hashed}-       -1 - - 2026-12-04T21:47:09.000000000+0000 "unknown size"\n`), false, 'an unknown size (-1)');
  assert.equal(listingHashed(`${hashed}- 1234567890 - - 2026-12-04T21:47:09.000000000+0000 "big"\n`), false, 'no padding');
  assert.equal(listingHashed(`${hashed.replace('"a b.txt"', '"- 13 - - x"')}`), true, 'a name that looks like an entry is not one');
});

test('modtimes: both sides at 1 ms or finer, fine local file systems and no option that widens the window', () => {
  const fine = { path1PrecisionNs: 1, path2PrecisionNs: 1, localFilesystemsFine: true, modtimeOptions: [] };
  assert.equal(modtimesTellEditsApart(fine), true, 'local↔local: 1 ns');
  assert.equal(modtimesTellEditsApart({ ...fine, path2PrecisionNs: 1_000_000 }), true, '1 ms (Google Drive)');
  assert.equal(modtimesTellEditsApart({ ...fine, path2PrecisionNs: 1_000_000_000 }), false, 'sftp: 1 s');
  assert.equal(modtimesTellEditsApart({ ...fine, path2PrecisionNs: 10_000_000 }), false, '10 ms');
  assert.equal(modtimesTellEditsApart({ ...fine, path2PrecisionNs: 3_153_600_000_000_000_000 }), false, 'no modtimes at all');
  assert.equal(modtimesTellEditsApart({ ...fine, path1PrecisionNs: undefined }), false, 'not known');
  assert.equal(modtimesTellEditsApart({ ...fine, path2PrecisionNs: 0 }), false);
  assert.equal(modtimesTellEditsApart({ ...fine, localFilesystemsFine: false }), false, 'rclone measures its temp dir, not the root');
  assert.equal(modtimesTellEditsApart({ ...fine, modtimeOptions: ['modify-window'] }), false);
});

test('support: fine modtimes leave checksums out, after the user\'s choice and the version', () => {
  assert.deepEqual(checksumSupport(on, CAPS_175, 'all', false, true), { ok: false, reason: 'fine-modtimes' });
  assert.deepEqual(checksumSupport(on, CAPS_175, [], false, true), { ok: false, reason: 'fine-modtimes' }, 'no common hash needed then');
  assert.deepEqual(checksumSupport(on, CAPS_175, 'all', false, false), { ok: true });
  assert.deepEqual(checksumSupport(on, CAPS_175, 'all', true, true), { ok: false, reason: 'user-compare' });
  assert.deepEqual(checksumSupport(makeJob({ checksumCompare: false }), CAPS_175, 'all', false, true), { ok: false, reason: 'off' });
  assert.deepEqual(checksumSupport(on, CAPS_160, 'all', false, true), { ok: false, reason: 'rclone-too-old' });
  assert.equal(checksumNote({ ok: false, reason: 'fine-modtimes' }, CAPS_175), undefined, 'nothing goes unnoticed');
  assert.deepEqual(planCompare({ ok: false, reason: 'fine-modtimes' }, 'bisync', 'hashed', false), { compare: undefined, settle: false }, 'hashed listings need no switch back');
});

test('file system times: digits under the millisecond show a fine file system; whole seconds, 2 s and 10 ms do not', () => {
  const second = 1_733_000_000n * 1_000_000_000n;
  assert.equal(showsFineTimes(second, second + 2_000_000_000n), false, 'whole seconds (ext4 with 128-byte inodes, sshfs), FAT');
  assert.equal(showsFineTimes(second + 10_000_000n, second + 990_000_000n), false, 'exFAT: 10 ms');
  assert.equal(showsFineTimes(second + 123_456_789n, second), true, 'a fine modtime');
  assert.equal(showsFineTimes(second, second + 4_000_001n), true, 'a fine change time');
  assert.equal(showsFineTimes(), false);
});

test('features JSON: Hashes read, anything else is unknown', () => {
  assert.deepEqual(parseFeatureHashes('{\n\t"Name": "box",\n\t"Hashes": [\n\t\t"md5",\n\t\t"sha1"\n\t],\n\t"Precision": 1000000000\n}'), ['md5', 'sha1']);
  assert.deepEqual(parseFeatureHashes('{"Name": "crypt", "Hashes": null}'), []);
  assert.deepEqual(parseFeatureHashes('{"Name": "crypt", "Hashes": []}'), []);
  assert.equal(parseFeatureHashes('Failed to create file system'), undefined);
  assert.equal(parseFeatureHashes('{"Name": "x"}'), undefined);
  assert.equal(parseFeaturePrecision('{\n\t"Name": "box",\n\t"Hashes": ["md5"],\n\t"Precision": 1000000000\n}'), 1_000_000_000);
  assert.equal(parseFeaturePrecision('{"Name": "local", "Precision": 1}'), 1);
  assert.equal(parseFeaturePrecision('{"Name": "x"}'), undefined);
  assert.equal(parseFeaturePrecision('Failed to create file system'), undefined);
});

test('notes say when same-size edits go unnoticed, and nothing when the user chose so', () => {
  assert.match(checksumNote({ ok: false, reason: 'rclone-too-old' }, CAPS_160) ?? '', /rclone 1\.60\.1 cannot compare checksums \(needs rclone >= 1\.66\)/);
  assert.match(checksumNote({ ok: false, reason: 'no-common-hash' }, CAPS_175) ?? '', /no hash type in common/);
  assert.equal(checksumNote({ ok: false, reason: 'off' }, CAPS_175), undefined);
  assert.equal(checksumNote({ ok: false, reason: 'user-compare' }, CAPS_175), undefined);
  assert.equal(checksumNote({ ok: true }, CAPS_175), undefined);
});

test('argv: --compare only where rclone has it, and never over the user\'s own compare', () => {
  const base = { job: on, global: makeGlobal(), caps: CAPS_175, operation: 'bisync' as const, workdir: '/state/w', filtersFile: undefined, dryRun: false, force: false };
  assert.ok(buildRunArgv({ ...base, compare: CHECKSUM_COMPARE }).includes('--compare=size,modtime,checksum'));
  assert.ok(!buildRunArgv(base).some((a) => a.startsWith('--compare')));
  assert.ok(!buildRunArgv({ ...base, caps: CAPS_160, compare: CHECKSUM_COMPARE }).some((a) => a.startsWith('--compare')));
  const own = buildRunArgv({ ...base, job: makeJob({ bisyncOptions: { compare: 'size,checksum' } }), compare: CHECKSUM_COMPARE });
  assert.deepEqual(own.filter((a) => a.startsWith('--compare')), ['--compare=size,checksum']);
});
