// The real service reads cron schedules in the system's time zone: the composition root resolves it once (TZ, else
// the zone the process resolved) and hands it to the scheduler, which would otherwise use UTC.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BUS_NAME, JOB_INTERFACE } from '../../src/errors.js';
import { jobObjectPath } from '../../src/dbus/contract.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'python3']);
const { rclone, skip } = suite;
const DAY_MS = 24 * 3600_000;

/** The wall-clock hour and minute of `ms` in `zone`, as "HH:MM". */
function wallClockTime(ms: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
}

/** The job's NextRunUsec property through busctl, in ms since the epoch. */
async function nextRunMs(address: string, job: string): Promise<number> {
  const r = await run('busctl', [`--address=${address}`, 'get-property', BUS_NAME, jobObjectPath(job), JOB_INTERFACE, 'NextRunUsec']);
  assert.equal(r.code, 0, r.stderr);
  const match = /^t (\d+)$/.exec(r.stdout.trim());
  assert.ok(match, r.stdout);
  return Number(match[1]) / 1000;
}

/** Start the service with TZ=zone and a daily 03:00 job; the next run it announces, read over the bus. */
async function announcedNightlyRun(t: TestContext, zone: string): Promise<{ next: number; startedMs: number }> {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  env.env.TZ = zone;
  env.writeConfig(env.configText([{ name: 'nightly', schedule: '0 3 * * *' }]));
  const startedMs = Date.now();
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  const next = await nextRunMs(suite.bus().address, 'nightly');
  await daemon.stop(); // frees the bus name for the next zone
  return { next, startedMs };
}

test('with TZ=Asia/Tokyo and with TZ=Asia/Kolkata a daily 03:00 job is next due at 03:00 local time of that zone', { skip }, async (t) => {
  const seen = new Map<string, number>();
  for (const zone of ['Asia/Tokyo', 'Asia/Kolkata']) {
    const { next, startedMs } = await announcedNightlyRun(t, zone);
    assert.equal(wallClockTime(next, zone), '03:00', `${zone}: ${new Date(next).toISOString()}`);
    assert.ok(next > startedMs && next <= Date.now() + DAY_MS, `${zone}: the first 03:00 after the start (${new Date(next).toISOString()})`);
    seen.set(zone, next);
  }
  // 03:00 in Tokyo (UTC+9) is 23:30 of the day before in Kolkata (UTC+5:30): the two services chose different instants.
  assert.equal(wallClockTime(seen.get('Asia/Tokyo')!, 'Asia/Kolkata'), '23:30');
  assert.notEqual(wallClockTime(seen.get('Asia/Kolkata')!, 'Asia/Tokyo'), '03:00');
});
