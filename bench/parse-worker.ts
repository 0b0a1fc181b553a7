// Child process for the scale measure: parses one config file in-process with the real config layer and prints
// {parseMs, rssBeforeMiB, rssAfterMiB, maxRssMiB, jobs} as JSON. Run alone so its RSS is the parse's own.
// argv: CONFIG_FILE HOME [RCLONE]  (with RCLONE, options are checked against that rclone's capabilities)

import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config/parse.js';
import { probeRclone } from '../src/platform/rclone-probe.js';

const [file, home, rclone] = process.argv.slice(2);
if (file === undefined || home === undefined) {
  console.error('usage: parse-worker CONFIG_FILE HOME [RCLONE]');
  process.exit(2);
}
const caps = rclone === undefined ? undefined : await probeRclone(rclone);
const text = readFileSync(file);
const MiB = 1024 * 1024;
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const config = parseConfig(text, { file, home, ...(caps === undefined ? {} : { caps }) });
const parseMs = performance.now() - t0;
const rssAfter = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    parseMs,
    rssBeforeMiB: rssBefore / MiB,
    rssAfterMiB: rssAfter / MiB,
    maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
    jobs: config.jobs.length,
  }),
);
