// `rbmctl sync --standalone` over a test's own config and runner: the real CLI path (main → the in-process client →
// the service → syncAndWait → formatting and exit codes), with the service built the way service/wiring.ts builds it
// for rbmctl (a scheduler clock that arms no timers, no start-up runs) around the runner of an engine env.
import type { Config } from '../../src/config/types.js';
import type { JobRunner } from '../../src/run/types.js';
import { main } from '../../src/cli/main.js';
import { createInProcessClient } from '../../src/cli/standalone.js';
import { RbmError } from '../../src/errors.js';
import { createService } from '../../src/service/service.js';
import { clockWithoutTimers, withoutStartupRuns } from '../../src/service/wiring.js';
import { systemClock } from '../../src/platform/clock.js';
import { nullNotifier } from '../../src/platform/notify.js';
import { nullLogger } from '../../src/ports.js';

export interface StandaloneSyncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `rbmctl sync --standalone ...args` against `config` with `runner`; `abort` stands for Ctrl-C. */
export async function standaloneSync(config: Config, runner: JobRunner, args: readonly string[], abort?: AbortSignal): Promise<StandaloneSyncResult> {
  const service = createService({
    configPath: config.path,
    clock: clockWithoutTimers(systemClock),
    logger: nullLogger,
    runner,
    loadConfig: () => Promise.resolve(withoutStartupRuns(config)),
    notifier: nullNotifier,
    editor: { addJob: () => Promise.reject(new Error('unused')), removeJob: () => Promise.reject(new Error('unused')) },
    version: 'test',
  });
  await service.start();
  let stdout = '';
  let stderr = '';
  const code = await main(
    ['sync', '--standalone', ...args],
    { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: {} },
    {
      connect: () => Promise.reject(new RbmError('ServiceUnavailable', 'no bus in this test')),
      openStandalone: () => Promise.resolve({ client: createInProcessClient(service, 'act'), close: () => service.shutdown() }),
      ...(abort ? { abort } : {}),
    },
  );
  return { code, stdout, stderr };
}
