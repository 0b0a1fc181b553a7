// --bwlimit values and what each rclone did with them (run by hand with `rclone --bwlimit=VALUE lsf DIR` on 1.60.1
// and 1.75.2, and again by test/integration/bwlimit-rclone.test.ts and test/compat/bwlimit-rclone.test.ts), beside
// what the config check accepts: only what both versions take, and a few oddities stricter than rclone.
import { bwlimitProblem } from '../../src/rclone/bwlimit.js';
import { run } from './procs.js';

export interface BwlimitCase {
  value: string;
  v160: boolean;
  v175: boolean;
  /** bwlimitProblem(value) === undefined. */
  ours: boolean;
}

const both = (value: string): BwlimitCase => ({ value, v160: true, v175: true, ours: true });
const neither = (value: string): BwlimitCase => ({ value, v160: false, v175: false, ours: false });
/** rclone takes it (a Go float syntax), the config check does not: nobody means a rate written so. */
const stricter = (value: string): BwlimitCase => ({ value, v160: true, v175: true, ours: false });
/** 1.75 splits entries on any run of blanks; 1.60 on each single space, so it refuses these. */
const only175 = (value: string): BwlimitCase => ({ value, v160: false, v175: true, ours: false });

export const BWLIMIT_CASES: readonly BwlimitCase[] = [
  ...['512k', 'off', '0', '1.5', '0.5M', '.5M', '5.M', '1m', '1b', '1E', '1Ki', '1KiB', '1kib', '1Mi', '1MiB', '10M:1M', 'off:off'].map(both),
  ...['08:00,512k 19:00,off', 'Mon-08:00,512 Sat-10:00,off', '08:00,10M:1M', '08:00,off:1M', '08:00,0', '00:00,1M', 'Sun-23:59,1G'].map(both),
  ...['Monday-08:00,1M', 'mon-08:00,1M', 'MON-08:00,1M', 'sunday-08:00,1', 'thu-08:00,1', 'thursday-08:00,1', 'Mon-08:00,1M 10:00,2M', '08:00,1M 08:00,2M', '19:00,off 08:00,1M'].map(both),
  ...['1e3', '1_000', '+5'].map(stricter),
  ...['08:00,512k  19:00,off', ' 08:00,512k', '08:00,512k '].map(only175),
  ...['', '-1', '2x', '512 k', '1KB', '1kb', '1KIB', '1Bi', 'inf', 'NaN', '0x10', '1e400', '10M:', ':1M', '10M:1M:1M', '08:00;512k'].map(neither),
  ...['25:00,512k', '24:00,1M', '08:60,1M', '8:00,512k', '08:00:00,1M', '08:0a,1M', '0a:00,1M', '08:00,512q', '08:00,-5', '08:00,', ',1M', '08:00,512k,1', '08:00,512k 19:00'].map(neither),
  ...['Xyz-08:00,1M', 'Mo-08:00,1M', 'Mond-08:00,1M', 'thurs-08:00,1', 'Mon08:00,1M', 'Mon-Fri-08:00,1M', 'Mon-8:00,1M', 'Mon-08:00:00,1M', 'Mon-,1M', '-08:00,1M', 'Mon-08-00,1M'].map(neither),
];

/**
 * Runs `rclone --bwlimit=VALUE lsf DIR` for every case with the rclone under test and returns the cases where it did
 * not do what the table says for its version, or where the config check accepts a value this rclone refuses.
 */
export async function bwlimitMismatches(rclone: string, minor: number, dir: string): Promise<string[]> {
  const env = { ...process.env, RCLONE_CONFIG: `${dir}/rclone.conf` };
  const wrong: string[] = [];
  for (const c of BWLIMIT_CASES) {
    const result = await run(rclone, [`--bwlimit=${c.value}`, 'lsf', dir], { env });
    const accepted = result.code === 0;
    if (!accepted && !result.stderr.includes('"--bwlimit" flag')) wrong.push(`${JSON.stringify(c.value)}: failed for another reason: ${result.stderr.split('\n')[0] ?? ''}`);
    const expected = minor >= 66 ? c.v175 : c.v160;
    if (accepted !== expected) wrong.push(`${JSON.stringify(c.value)}: rclone 1.${minor} ${accepted ? 'accepts' : 'refuses'} it, the table says otherwise`);
    if (!accepted && bwlimitProblem(c.value) === undefined) wrong.push(`${JSON.stringify(c.value)}: refused by rclone 1.${minor} but accepted by the config check`);
  }
  return wrong;
}
