// rbmctl's job-name arguments go through the same parser as the D-Bus adapter's (api/requests.ts) before any
// command runs: a bad name is exit 2 with the service's own message, whether the service is running or not.

import { parseJobName, parseJobNames } from '../api/requests.js';

/** Checks the positional job arguments of any command: `job` and `name` (one job), `jobs` (a list). */
export function parseJobArguments(args: Readonly<Record<string, unknown>>): void {
  if (args.job !== undefined) parseJobName(args.job, 'job');
  if (args.name !== undefined) parseJobName(args.name, 'name');
  if (args.jobs !== undefined) parseJobNames(args.jobs, 'jobs');
}
